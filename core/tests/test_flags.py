"""The dotted-flag parser shared by every command."""

from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, BeforeValidator, Field

from policyzoo.errors import BadInput
from policyzoo.flags import Flag, Flags, bind, flag_fields, flag_name, make_spec, parse_bool
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
    with pytest.raises(
        BadInput, match=r"--policy\.chunk_size=abc: Input should be a valid integer.*\(chunky\)"
    ):
        make_spec(ChunkSpec, {"chunk_size": "abc"})
    with pytest.raises(
        BadInput,
        match=r"--policy\.chunk_sise: chunky has no such setting\. "
        r"Did you mean --policy\.chunk_size\?",
    ):
        make_spec(ChunkSpec, {"chunk_sise": "3"})
    assert make_spec(ChunkSpec, {"chunk_size": "3"}).chunk_size == 3


def _ids(value: object) -> object:
    """A custom reading of the flag's text: `a,b` or a list."""
    if not isinstance(value, str):
        return value
    names = [name for name in value.split(",") if name]
    if not names:
        raise ValueError("name at least one")
    return names


class RunSettings(BaseModel):
    steps: Annotated[int, Field(ge=1), Flag("train.steps")] = 10
    rate: Annotated[float, Field(gt=0), Flag("rate", "a rate > 0")] = 1.0
    ids: Annotated[list[str], BeforeValidator(_ids), Flag("ids")] = []
    mode: Annotated[Literal["fast", "safe"], Flag("mode", aliases=("other.mode",))] = "safe"
    verbose: Annotated[bool, Flag("verbose")] = False
    extra: Annotated[dict[str, str], Flag("extra", section=("known",))] = {}
    count: Annotated[int, Field(ge=0), Flag("count", most=5)] = 0
    weight: Annotated[float | None, Field(allow_inf_nan=False), Flag("weight", none=True, least=0)] = 1.0
    note: str = ""


def test_bind_takes_each_field_by_its_flag_name():
    flags = Flags(["--train.steps=1e3", "--ids=a,b", "--verbose", "--extra.known=1", "--other.mode=fast"])
    assert bind(flags, RunSettings) == {
        "steps": 1000,
        "ids": ["a", "b"],
        "verbose": True,
        "extra": {"known": "1"},
        "mode": "fast",
    }
    flags.finish()
    assert flag_name(RunSettings, "steps") == "--train.steps"
    assert flag_name(RunSettings, "extra") == "--extra.*"
    assert "note" not in flag_fields(RunSettings)
    assert RunSettings(count=9, weight=-1).count == 9  # the code may set more than a user may type
    assert bind(Flags(["--weight=off"]), RunSettings) == {"weight": None}


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["--train.steps=0"],
            "--train.steps=0: expected a whole number >= 1",
        ),  # said from the field's bounds
        (["--train.steps=2.5"], "--train.steps=2.5: expected a whole number >= 1"),
        (["--rate=-1"], "--rate=-1: expected a rate > 0"),  # the flag's own words
        (["--train.steps"], "--train.steps: needs a value; write --train.steps=VALUE (a whole number >= 1)"),
        (["--ids=,"], "--ids=,: name at least one"),  # a custom reading's reason
        (["--mode=fats"], "--mode=fats: allowed values are fast, safe. Did you mean 'fast'?"),
        (["--mode=fast", "--other.mode=safe"], "--other.mode: the same as --mode; give one of them"),
        (["--verbose=perhaps"], "--verbose=perhaps: expected true or false"),
        (["--count=6"], "--count=6: expected a whole number >= 0, at most 5"),  # what a user may type
        (["--weight=-1"], "--weight=-1: expected a number >= 0"),
        (["--weight=nan"], "--weight=nan: expected a number >= 0"),
    ],
)
def test_bind_says_what_is_wrong_in_one_line(args, line):
    with pytest.raises(BadInput) as error:
        bind(Flags(args), RunSettings)
    assert str(error.value) == line


def test_bind_leaves_unknown_flags_to_finish_with_a_suggestion():
    flags = Flags(["--train.stepz=3"])
    assert bind(flags, RunSettings) == {}
    with pytest.raises(BadInput, match=r"^--train.stepz: unknown flag\. Did you mean --train.steps\?$"):
        flags.finish()
