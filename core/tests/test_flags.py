"""The dotted-flag parser shared by every command."""

import pytest

from policyzoo.errors import BadInput
from policyzoo.flags import Flags, make_spec, parse_bool
from policyzoo.spec import PolicySpec


class ChunkSpec(PolicySpec):
    type = "chunky"
    chunk_size: int = 100


def test_equals_and_space_forms_and_bare_booleans():
    flags = Flags(["--policy.type=act", "--batch_size", "2", "--resume", "--policy.use_amp=true"])
    assert flags.section("policy") == {"type": "act", "use_amp": "true"}
    assert flags.take("batch_size", int) == 2
    assert flags.take("resume", parse_bool) is True
    flags.finish()


def test_defaults_and_choices():
    flags = Flags(["--mode=slw"])
    assert flags.take("steps", int, default=7) == 7
    with pytest.raises(BadInput, match=r"--mode=slw: allowed values are slow, safe\. Did you mean 'slow'\?"):
        flags.take("mode", choices=["slow", "safe"])


def test_unknown_flag_suggests_the_close_known_one():
    flags = Flags(["--batch_sise=2"])
    flags.take("batch_size", int)
    with pytest.raises(BadInput, match=r"--batch_sise: unknown flag\. Did you mean --batch_size\?"):
        flags.finish()


def test_positional_arguments_are_rejected():
    flags = Flags(["oops"])
    with pytest.raises(BadInput, match="unexpected argument 'oops'"):
        flags.finish()


@pytest.mark.parametrize("text, value", [("true", True), ("False", False), ("1", True), ("no", False)])
def test_parse_bool(text, value):
    assert parse_bool(text) is value


def test_make_spec_names_the_flag_the_value_and_the_type():
    with pytest.raises(BadInput, match=r"--policy\.chunk_size=abc: Input should be a valid integer.*\(chunky\)"):
        make_spec(ChunkSpec, {"chunk_size": "abc"})
    with pytest.raises(BadInput, match=r"--policy\.chunk_sise: chunky has no such setting\. "
                                       r"Did you mean --policy\.chunk_size\?"):
        make_spec(ChunkSpec, {"chunk_sise": "3"})
    assert make_spec(ChunkSpec, {"chunk_size": "3"}).chunk_size == 3
