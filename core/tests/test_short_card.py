"""A card needs only a title, a summary and an architecture: such a policy is listed, shown and exported, while
`recommend` and the benchmarks leave it out with a note; a card without a title is one line naming both."""

from __future__ import annotations

import json
import re
from importlib.metadata import EntryPoint

import pytest

from policyzoo import PolicyCard, PolicySpec, hookimpl
from policyzoo.errors import BadInput
from policyzoo.plugins import Plugins
from policyzoo.registry import get_registry
from policyzoo_runtime.recommend import NO_GUIDE, Candidate, Facts, recommend, train_command

SHORT = PolicyCard(title="Grasp Net (GN)", summary="grasps, briefly", architecture="a small CNN")
MISSING_TITLE = "ValidationError: PolicyCard: title: Field required"


class GraspNetSpec(PolicySpec):
    type = "grasp_net"


class ShortCardPlugin:
    @hookimpl
    def register_policies(self, register):
        register(GraspNetSpec, SHORT, factory="nowhere:factory")


@pytest.fixture
def short_card(register_plugin) -> None:
    assert register_plugin(ShortCardPlugin(), "grasp-net", "policyzoo-grasp-net")
    assert get_registry().policy("grasp_net").card is SHORT


def test_three_fields_make_a_card():
    assert (SHORT.guide, SHORT.bench, SHORT.training, SHORT.needs_reward) == (None, None, "", False)


def test_it_is_listed_and_shown(short_card, run_cli):
    code, out, _ = run_cli("policies", "list", "--json")
    row = {row["type"]: row for row in json.loads(out)}["grasp_net"]
    assert code == 0 and (row["status"], row["summary"]) == ("installed", "grasps, briefly")
    code, out, err = run_cli("policies", "show", "grasp_net")
    assert code == 0, err
    assert out.startswith("grasp_net: Grasp Net (GN) (policyzoo-grasp-net 0.0.0)\ngrasps, briefly\n")
    assert re.search(r"architecture\s+a small CNN", out)
    assert re.search(r"guide\s+none on its card: policyzoo recommend leaves it unranked", out)
    assert not any(part in out for part in ("best for", "fit per goal", "claims (", "simulator presets"))


def test_recommend_leaves_it_unranked_with_a_note(short_card, run_cli):
    ranking = recommend(Facts(goal="production", gpu_memory_gb=24))
    mine = next(candidate for candidate in ranking if candidate.type == "grasp_net")
    assert not mine.eligible and mine.reasons == [f"· {NO_GUIDE}"]
    with_cards = [candidate.type for candidate in ranking if candidate.card is not None]
    assert with_cards[-1] == "grasp_net"  # after the ranked and the ruled-out ones
    assert train_command(Candidate("grasp_net", SHORT, True, "x"), Facts(gpu_memory_gb=24)) == (
        "policyzoo train --policy.type=grasp_net --policy.device=cuda"
    )
    code, out, err = run_cli("recommend", "--goal=production", "--gpu-memory-gb=24")
    assert code == 0, err
    assert f"-- GN (grasp_net), not ranked\n     · {NO_GUIDE}\n" in out
    assert out.splitlines()[2].startswith("1. ACT (act)")
    code, out, _ = run_cli("recommend", "--goal=production", "--gpu-memory-gb=24", "--json")
    row = {row["type"]: row for row in json.loads(out)["ranking"]}["grasp_net"]
    assert code == 0 and (row["eligible"], row["score"]) == (False, None)


def test_the_benchmarks_and_the_demo_leave_it_out(short_card, tmp_path, capsys):
    from policyzoo_bench.claims import all_claims, run
    from policyzoo_bench.deploy import pick_policy
    from policyzoo_bench.policies import bench_features
    from policyzoo_bench.success import presets_for
    from policyzoo_runtime.demo import demo_policy

    assert not [claim for claim in all_claims() if claim.policy == "grasp_net"]
    run(tmp_path)
    [note] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("not checked: ")]
    assert "grasp_net" in note and note.endswith("(no PolicyCard.bench on the card, so no claims)")
    assert "grasp_net" not in presets_for("lift", [])
    with pytest.raises(
        BadInput,
        match=r"--policies=grasp_net: its plugin declares no settings for task 'lift' "
        r"\(PolicyCard.bench.presets\); tasks it has: none",
    ):
        presets_for("lift", ["grasp_net"])
    assert pick_policy(None) == "act" and demo_policy()[0] == "act"
    features = bench_features(GraspNetSpec(), SHORT, quick=True)  # the policies bench reads the card's needs
    assert not features.has_reward and not features.has_language


def test_the_training_summary_and_the_model_card_do_without_a_guide(short_card):
    from policyzoo_runtime.hub.model_card import _facts
    from policyzoo_runtime.train.metrics import indicator_of, verdict

    assert indicator_of("grasp_net") is None
    assert verdict("grasp_net", 2.0, 1.0).endswith(
        "no reference figures for grasp_net (its card has no training indicator)"
    )
    facts = _facts(get_registry().policy("grasp_net"), {})
    assert "| Architecture | a small CNN |" in facts and "| Needs rewards | no |" in facts
    assert "Best for" not in facts and "Training method" not in facts


def test_a_card_without_a_title_is_one_line_naming_the_field_and_the_plugin(tmp_path, monkeypatch):
    (tmp_path / "untitled_zoo.py").write_text(
        "from policyzoo import PolicyCard\n\nCARD = PolicyCard(summary='no title', architecture='-')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    entry_point = EntryPoint(name="untitled", value="untitled_zoo", group="policyzoo")
    monkeypatch.setattr("policyzoo.plugins.entry_points", lambda group: [entry_point])
    plugins = Plugins()
    plugins.load_entry_points()
    [problem] = plugins.problems
    assert (problem.plugin, problem.problem) == (
        "untitled",
        f"failed to import untitled_zoo: {MISSING_TITLE}",
    )


def test_a_card_without_a_title_made_in_the_hook_is_one_warning_line(register_plugin, run_cli, capsys):
    class Untitled:
        @hookimpl
        def register_policies(self, register):
            register(
                GraspNetSpec, PolicyCard(summary="no title", architecture="-"), factory="nowhere:factory"
            )

    register_plugin(Untitled(), "untitled", "untitled-zoo")
    assert "grasp_net" not in get_registry().policies
    [warning] = capsys.readouterr().err.splitlines()
    assert warning.startswith(f"warning: plugin 'untitled' failed in register_policies: {MISSING_TITLE} (")
    code, out, _ = run_cli("plugins", "doctor")
    assert code == 1
    assert (
        f"problem: untitled (untitled-zoo): hook register_policies raised {MISSING_TITLE}" in out.splitlines()
    )
