"""`policyzoo policies list|show|schema`."""

from __future__ import annotations

import json

import click

from policyzoo._catalogue import FIRST_PARTY
from policyzoo.card import Bench, Guide, TrainingIndicator
from policyzoo.cli.base import SuggestingGroup, print_table
from policyzoo.registry import get_registry


@click.group(cls=SuggestingGroup)
def policies() -> None:
    """Installed and installable policy types."""


@policies.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(as_json: bool) -> None:
    """Every policy type: installed ones with their plugin, first-party ones with their pip name."""
    registry = get_registry()
    rows = []
    for policy_type, entry in registry.policies.items():
        rows.append(
            {
                "type": policy_type,
                "status": "installed",
                "installed": True,
                "distribution": entry.distribution,
                "version": entry.version,
                "summary": entry.card.summary,
            }
        )
    for policy_type, clash in registry.policy_clashes.items():
        rows.append(
            {
                "type": policy_type,
                "status": "clash",
                "installed": True,
                "distribution": ", ".join(clash.distributions),
                "version": "",
                "summary": "unusable: two plugins provide it; see `policyzoo plugins doctor`",
            }
        )
    for policy_type, known in FIRST_PARTY.items():
        if policy_type not in registry.policies and policy_type not in registry.policy_clashes:
            rows.append(
                {
                    "type": policy_type,
                    "status": "installable",
                    "installed": False,
                    "distribution": known.distribution,
                    "version": "",
                    "summary": known.summary,
                }
            )
    rows.sort(key=lambda row: (not row["installed"], row["type"]))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    print_table(
        ["TYPE", "STATUS", "PLUGIN", "SUMMARY"],
        [[row["type"], row["status"], _plugin_column(row), row["summary"]] for row in rows],
    )
    if registry.problems:
        click.echo(f"\n{len(registry.problems)} plugin problem(s): run `policyzoo plugins doctor`", err=True)


def _plugin_column(row: dict[str, object]) -> str:
    if row["status"] == "installable":
        return f"pip install {row['distribution']}"
    return f"{row['distribution']} {row['version']}".strip()


@policies.command("show")
@click.argument("policy_type")
def show_command(policy_type: str) -> None:
    """The card of POLICY_TYPE and every setting with its default."""
    entry = get_registry().policy(policy_type, flag="TYPE")
    card = entry.card
    click.echo(f"{entry.type}: {card.title} ({entry.distribution} {entry.version})")
    click.echo(card.summary)
    guide, bench = card.guide, card.bench
    facts = [("architecture", card.architecture)]
    if card.training:
        facts.append(("training", card.training))
    if guide is not None:
        facts.append(("cameras", guide.cameras))
    facts += [
        ("needs language", "yes" if card.needs_language else "no"),
        ("needs reward", "yes" if card.needs_reward else "no"),
    ]
    facts += (
        _guide_rows(guide)
        if guide is not None
        else [("guide", "none on its card: policyzoo recommend leaves it unranked")]
    )
    if card.paper:
        facts.append(("paper", card.paper))
    if guide is not None and guide.indicator is not None:
        facts.append(("expected loss", _indicator_text(guide.indicator)))
    click.echo()
    print_table(["", ""], facts)
    if guide is not None and guide.goals:
        click.echo("\nfit per goal (policyzoo recommend --goal=GOAL; a goal not listed scores 0):")
        print_table(
            ["GOAL", "SCORE", "WHY"],
            [
                [goal, fit.score, fit.reason + (f"  [{'; '.join(fit.sources)}]" if fit.sources else "")]
                for goal, fit in guide.goals.items()
            ],
        )
    if bench is not None and bench.claims:
        click.echo("\nclaims (policyzoo bench claims checks them here):")
        print_table(
            ["CLAIM", "TEXT", "SOURCE"],
            [[f"{entry.type}-{claim.id}", claim.text, claim.source] for claim in bench.claims],
        )
    click.echo("\nsettings (--policy.NAME=VALUE):")
    rows = []
    for name, field in entry.spec.model_fields.items():
        rows.append(
            [name, field.default if not field.is_required() else "(required)", field.description or ""]
        )
    print_table(["NAME", "DEFAULT", "MEANING"], rows)
    if bench is not None and bench.presets:
        click.echo("\nsimulator presets (policyzoo bench success --task=TASK; policyzoo demo):")
        print_table(["TASK", "SCALE", "STEPS", "BATCH", "DEMOS", "NOTE"], preset_rows(bench))


def _guide_rows(guide: Guide) -> list[tuple[str, str]]:
    return [
        ("best for", "; ".join(guide.best_for)),
        ("not for", "; ".join(guide.not_for)),
        ("episodes needed", f"{guide.episodes_needed.value}  [{guide.episodes_needed.source}]"),
        (
            "GPU memory, training",
            f"{guide.train_memory_gb[0]:g}-{guide.train_memory_gb[1]:g} GB at batch 8  "
            f"[{guide.train_memory_source}]",
        ),
        ("GPU memory, inference", f"{guide.inference_memory.value}  [{guide.inference_memory.source}]"),
        ("latency", f"{guide.latency.value}  [{guide.latency.source}]"),
        ("parameters", f"{guide.parameters.value}  [{guide.parameters.source}]"),
    ]


def _indicator_text(indicator: TrainingIndicator) -> str:
    figures = []
    if indicator.start is not None:
        figures.append(f"about {indicator.start:g} at the start")
    if indicator.goal is not None:
        figures.append(f"below {indicator.goal:g} when trained")
    return "; ".join([", ".join(figures), indicator.note] if figures else [indicator.note])


def preset_rows(bench: Bench) -> list[list[object]]:
    rows: list[list[object]] = []
    for task, presets in sorted(bench.presets.items()):
        for scale in ("cpu", "gpu", "demo"):
            preset = getattr(presets, scale)
            if preset is not None:
                steps = f"{preset.steps}+{preset.finish.steps}" if preset.finish else preset.steps
                rows.append([task, scale, steps, preset.batch_size, preset.demos, preset.note])
        if presets.note:
            rows.append([task, "-", "", "", "", presets.note])
    return rows


@policies.command("schema")
@click.argument("policy_type")
def schema_command(policy_type: str) -> None:
    """The JSON Schema of POLICY_TYPE's settings."""
    from policyzoo.api import spec_schema

    click.echo(json.dumps(spec_schema(policy_type, flag="TYPE"), indent=2))
