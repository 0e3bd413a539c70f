"""`policyzoo recommend`: which policy to train for this data, machine and goal."""

from __future__ import annotations

import json
import math

import click

from policyzoo.cli.base import dotted_command
from policyzoo.errors import BadInput
from policyzoo.flags import Flags, parse_bool


@click.group()
def _group() -> None:
    """Holder for the command below (the top-level CLI lists it as `recommend`)."""


@dotted_command(_group, "recommend")
def recommend(flags: Flags) -> None:
    """Rank the policy types for a dataset, a GPU and a goal, with the reasons for every place.

    Flags: --dataset.repo_id=USER/DATA or --dataset.root=DIR, --gpu_memory_gb=N (or --gpu-memory-gb; default: detected with
    nvidia-smi, or none), --goal=production|research|limited-data|contact-rich|long-horizon,
    --language=true|false, --json.
    """
    from policyzoo_runtime import recommend as engine

    dataset = flags.section("dataset", known=("repo_id", "root"))
    unknown = sorted(set(dataset) - {"repo_id", "root"})
    if unknown:
        raise BadInput(
            f"--dataset.{unknown[0]}: unknown flag; recommend reads --dataset.repo_id and --dataset.root"
        )
    gpu = flags.take("gpu_memory_gb", _gigabytes, default=None, help_value="a number of GB, or 0 for no GPU")
    goal = flags.take("goal", default="production", choices=engine.GOALS)
    language = flags.take("language", parse_bool, default=None)
    as_json = flags.take("json", parse_bool, default=False)
    flags.finish()
    detected = gpu is None
    if detected:
        gpu = engine.detect_gpu_memory_gb()
    facts = engine.facts_from(goal, language, gpu or None, dataset.get("repo_id"), dataset.get("root"))
    ranking = engine.recommend(facts)
    winner = next((candidate for candidate in ranking if candidate.eligible), None)
    command = engine.train_command(winner, facts) if winner else None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ranking": [
                        {
                            "type": c.type,
                            "eligible": c.eligible,
                            "score": c.score if c.eligible else None,
                            "installed": c.installed,
                            "reasons": c.reasons,
                        }
                        for c in ranking
                    ],
                    "facts": _facts_json(facts),
                    "train_command": command,
                },
                indent=2,
            )
        )
        return
    _print(ranking, facts, detected, command)


def _gigabytes(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError("must be finite and >= 0")
    return value


def _facts_json(facts) -> dict:
    features = facts.features
    return {
        "goal": facts.goal,
        "language": facts.wants_language,
        "gpu_memory_gb": facts.gpu_memory_gb,
        "dataset": facts.dataset,
        "episodes": facts.episodes,
        "tasks": facts.tasks,
        "cameras": sorted(features.visual) if features else None,
        "rewards": features.has_reward if features else None,
    }


def _print(ranking, facts, detected: bool, command: str | None) -> None:
    gpu = (f"{facts.gpu_memory_gb:g} GB GPU" if facts.gpu_memory_gb else "no GPU") + (
        " (detected)" if detected else ""
    )
    data = "no dataset given"
    if facts.features is not None:
        data = (
            f"{facts.dataset}: {facts.episodes} episodes, {len(facts.features.visual)} camera(s), "
            f"{'rewards' if facts.features.has_reward else 'no rewards'}, {facts.tasks} task(s)"
        )
    click.echo(f"goal {facts.goal}, language {'yes' if facts.wants_language else 'no'}, {gpu}; {data}\n")
    place = 0
    for candidate in ranking:
        if candidate.eligible:
            place += 1
            head = f"{place}. {candidate.name} ({candidate.type}), score {candidate.score}"
        elif candidate.card is None:
            head = f"-- {candidate.type}, not installed"
        elif candidate.card.guide is None:
            head = f"-- {candidate.name} ({candidate.type}), not ranked"
        else:
            head = f"-- {candidate.name} ({candidate.type}), ruled out"
        click.echo(head)
        for reason in candidate.reasons:
            click.echo(f"     {reason}")
    if command:
        click.echo(f"\ntrain the winner:\n  {command}")
        if "--policy.device=auto" in command:
            click.echo(
                "  (this machine has no NVIDIA GPU: `auto` trains on the GPU of the machine you run it on, "
                "and on the CPU here)"
            )
    else:
        click.echo("\nno policy fits these facts; see the reasons above")
