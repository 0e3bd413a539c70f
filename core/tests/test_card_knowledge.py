"""What the core knows about a policy comes from its card: loss indicators, the deploy bench's policy, and
no first-party type named anywhere in the core but the install catalogue."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest
from pydantic import ValidationError

from policyzoo._catalogue import FIRST_PARTY
from policyzoo.card import GoalFit, Guide, PolicyCard, Source, TrainingIndicator
from policyzoo.errors import BadInput
from policyzoo.registry import get_registry
from policyzoo.spec import PolicySpec
from policyzoo_bench.deploy import pick_policy
from policyzoo_runtime.train.metrics import indicator_of, verdict

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [
    ROOT / "core/src/policyzoo",
    ROOT / "runtime/src/policyzoo_runtime",
    ROOT / "benchmarks/src/policyzoo_bench",
]
ALLOWED = {("policyzoo/_catalogue.py", None)}
"""The install catalogue: the one place the contract, the runtime and the benchmarks name first-party types."""


def card(**guide_fields) -> PolicyCard:
    return PolicyCard(
        title="Grasp Net",
        summary="-",
        architecture="-",
        training="-",
        guide=Guide(
            **{
                "cameras": "any number",
                "best_for": [],
                "not_for": [],
                "episodes_needed": Source(value="-", source="-"),
                "train_memory_gb": (1, 2),
                "train_memory_source": "-",
                "inference_memory": Source(value="-", source="-"),
                "latency": Source(value="-", source="-"),
                "parameters": Source(value="-", source="-"),
                **guide_fields,
            }
        ),
    )


def test_no_core_module_names_a_first_party_type_outside_the_catalogue():
    names = set(FIRST_PARTY)
    found = []
    for top, path in sorted((package, module) for package in PACKAGES for module in package.rglob("*.py")):
        relative = path.relative_to(top.parent).as_posix()
        if (relative, None) in ALLOWED:
            continue
        previous: list[str] = []
        for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            if token.type == tokenize.STRING:
                text = re.sub(r"^[rbfuRBFU]*(['\"]{1,3})(.*)\1$", r"\2", token.string, flags=re.S)
                constant = previous[-2] if len(previous) >= 2 and previous[-1] == "=" else None
                if text in names and (relative, constant) not in ALLOWED:
                    found.append(f"{relative}:{token.start[0]}: {token.string}")
            if token.type in (tokenize.NAME, tokenize.OP):
                previous = [*previous[-1:], token.string]
    assert not found, (
        "the core decides by a first-party type name; put it on the card instead:\n" + "\n".join(found)
    )


def test_the_loss_verdict_reads_the_card():
    assert indicator_of("act") == get_registry().policy("act").card.guide.indicator
    assert "the guide expects act to start near 1 and to end below 0.1: reached" in verdict("act", 1.1, 0.05)
    own = TrainingIndicator(start=2.0, goal=0.5, note="the GN paper")
    assert verdict("grasp_net", 2.0, 0.4, own).endswith(
        "; the GN paper expects grasp_net to start near 2 and to end below 0.5: reached"
    )
    assert verdict("grasp_net", 2.0, 0.4, TrainingIndicator(goal=0.5, note="n")).endswith(
        "; n expects grasp_net to end below 0.5: reached"
    )
    assert "no reference figures for grasp_net" in verdict("grasp_net", 2.0, 1.0)
    assert "no reference figures for tiny" in verdict(
        "tiny", 2.0, 1.0
    )  # installed, its card has no indicator


def test_a_third_party_indicator_summarises_its_training(register_plugin):
    from policyzoo import hookimpl

    class GraspNetSpec(PolicySpec):
        type = "grasp_net"

    class Plugin:
        @hookimpl
        def register_policies(self, register):
            register(
                GraspNetSpec,
                card(indicator=TrainingIndicator(start=3.0, goal=0.3, note="GN paper")),
                factory="nowhere:factory",
            )

    assert register_plugin(Plugin(), "grasp-net")
    assert "GN paper expects grasp_net to start near 3 and to end below 0.3: not reached yet" in verdict(
        "grasp_net", 3, 1
    )


def test_card_fields_are_validated():
    with pytest.raises(ValidationError, match="goals"):
        card(goals={"speed": GoalFit(score=3, reason="fast")})
    with pytest.raises(ValidationError, match="less than or equal to 5"):
        GoalFit(score=6, reason="the best")
    with pytest.raises(ValidationError, match="must be below start"):
        TrainingIndicator(start=0.1, goal=1.0, note="upside down")


def test_the_deploy_bench_drives_the_card_marked_policy_or_the_one_asked_for(monkeypatch):
    marked = [
        entry.type
        for entry in get_registry().policies.values()
        if entry.card.bench is not None and entry.card.bench.deploy
    ]
    assert marked == ["act"]
    assert pick_policy(None) == "act"
    assert pick_policy("vqbet") == "vqbet"
    with pytest.raises(BadInput, match="--policy=nothing: unknown policy type"):
        pick_policy("nothing")
    monkeypatch.delitem(get_registry().policies, "act")
    with pytest.raises(BadInput, match="no installed policy's card sets bench.deploy; pass --policy=TYPE"):
        pick_policy(None)


def test_the_catalogue_agrees_with_the_installed_first_party_cards():
    registry = get_registry()
    for policy_type, known in FIRST_PARTY.items():
        entry = registry.policy(policy_type)
        assert (entry.card.summary, entry.distribution) == (known.summary, known.distribution), policy_type


def test_policies_show_prints_the_fit_per_goal_and_the_claims(run_cli):
    code, out, _ = run_cli("policies", "show", "act")
    assert code == 0 and "fit per goal (policyzoo recommend --goal=GOAL; a goal not listed scores 0)" in out
    assert re.search(r"limited-data\s+5\s+learns a task from about 50 demonstrations", out)
    assert "act-control-hz" in out and "about 1 at the start, below 0.1 when trained" in out
    code, out, _ = run_cli("policies", "show", "tiny")
    assert code == 0 and "fit per goal" not in out and "claims (" not in out


def test_the_demo_trains_the_policy_whose_card_declares_demo_settings() -> None:
    from policyzoo_runtime.demo import DEMO_TASK, demo_policy

    policy_type, preset = demo_policy()
    assert policy_type == "act" and preset == get_registry().policy("act").card.bench.presets[DEMO_TASK].demo
    with pytest.raises(BadInput, match="no installed policy's card declares demo settings for task 'juggle'"):
        demo_policy("juggle")
