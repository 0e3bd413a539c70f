"""The README.md model card of an exported policy: Hub metadata, what it is, how it was trained, how to load it."""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING, Any

from policyzoo.capabilities import lerobot_loadable

if TYPE_CHECKING:
    from policyzoo.registry import PolicyEntry
    from policyzoo_runtime.hub.export import ExportReport

PLACEHOLDER_REPO = "USER/NAME"


def render(
    *,
    policy_type: str,
    entry: PolicyEntry,
    config: dict[str, Any],
    meta: dict[str, Any],
    training: dict[str, Any],
    plots: list[str],
    repo_id: str | None,
    license: str,
    report: ExportReport,
) -> str:
    """The whole model card as markdown with a YAML front matter."""
    robot = (meta.get("robot") or {}).get("type")
    dataset = (meta.get("dataset") or {}).get("repo_id") or training.get("dataset")
    repo = repo_id or PLACEHOLDER_REPO
    card = entry.card
    lerobot = lerobot_loadable(entry.load_factory())
    parts = [
        front_matter(policy_type, robot, dataset, license, lerobot),
        f"# {card.title} policy{f' for {robot}' if robot else ''}\n",
        f"{card.summary}\n",
        _facts(entry, config),
        _training(training, dataset, meta, plots),
        _usage(policy_type, entry.distribution, repo, robot, lerobot),
        _check(report),
    ]
    parts += plugin_sections(meta)
    return "\n".join(part.rstrip() + "\n" for part in parts if part)


def front_matter(
    policy_type: str, robot: str | None, dataset: str | None, license: str, lerobot: bool = True
) -> str:
    tags = ["robotics", *(["lerobot"] if lerobot else []), "policyzoo", policy_type] + (
        [robot] if robot else []
    )
    library = "lerobot" if lerobot else "policyzoo"
    lines = ["---", f"library_name: {library}", "pipeline_tag: robotics", f"license: {license}", "tags:"]
    lines += [f"- {json.dumps(tag)}" for tag in tags]
    if dataset:
        lines += ["datasets:", f"- {json.dumps(dataset)}"]
    return "\n".join(lines + ["---", ""])


def _facts(entry: PolicyEntry, config: dict[str, Any]) -> str:
    card, guide = entry.card, entry.card.guide
    rows = [("Architecture", card.architecture)]
    if card.training:
        rows.append(("Training method", card.training))
    if guide is not None:
        rows.append(("Cameras", guide.cameras))
    rows += [
        ("Needs a task text", "yes" if card.needs_language else "no"),
        ("Needs rewards", "yes" if card.needs_reward else "no"),
    ]
    if guide is not None:
        rows += [
            ("Best for", "; ".join(guide.best_for)),
            ("Not for", "; ".join(guide.not_for)),
            ("Parameters", f"{guide.parameters.value} ({guide.parameters.source})"),
            ("Typical latency", f"{guide.latency.value} ({guide.latency.source})"),
        ]
    for key in ("chunk_size", "n_action_steps", "n_obs_steps", "horizon"):
        if key in config:
            rows.append((f"`{key}`", str(config[key])))
    inputs = ", ".join(
        f"`{key}` {tuple(value.get('shape', ()))}"
        for key, value in (config.get("input_features") or {}).items()
    )
    outputs = ", ".join(
        f"`{key}` {tuple(value.get('shape', ()))}"
        for key, value in (config.get("output_features") or {}).items()
    )
    rows += [("Inputs", inputs or "-"), ("Outputs", outputs or "-")]
    table = "\n".join(f"| {name} | {_cell(value)} |" for name, value in rows)
    return f"## What it is\n\n| | |\n|---|---|\n{table}\n"


def _training(training: dict[str, Any], dataset: str | None, meta: dict[str, Any], plots: list[str]) -> str:
    lines = ["## Training", ""]
    command = training.get("command")
    if isinstance(command, list):
        command = shlex.join(str(part) for part in command)
    if command:
        lines += ["```bash", str(command), "```", ""]
    if dataset:
        fingerprint = (meta.get("dataset") or {}).get("fingerprint")
        lines.append(
            f"- Dataset: [{dataset}](https://huggingface.co/datasets/{dataset})"
            + (f" (info.json fingerprint `{fingerprint}`)" if fingerprint else "")
        )
    facts = {
        key: value
        for key, value in training.items()
        if key not in ("command", "dataset") and isinstance(value, (int, float, str, bool))
    }
    for key, value in facts.items():
        lines.append(f"- {key.replace('_', ' ')}: {_number(value)}")
    for key in ("final_metrics", "final", "metrics"):
        if isinstance(training.get(key), dict) and training[key]:
            lines += ["", "Final metrics:", "", "| metric | value |", "|---|---|"]
            lines += [f"| {name} | {_number(value)} |" for name, value in training[key].items()]
            break
    if len(lines) == 2:
        lines.append("No training summary was saved with this checkpoint.")
    if plots:
        lines += ["", f"![training loss]({plots[0]})"]
    return "\n".join(lines) + "\n"


def _usage(policy_type: str, distribution: str, repo: str, robot: str | None, lerobot: bool = True) -> str:
    deploy = (
        f"policyzoo deploy --policy.path={repo} --robot.type={robot} --robot.backend=sim"
        if robot
        else f"policyzoo eval --policy.path={repo} --env=so101_bimanual_sim --episodes=10"
    )
    lerobot_part = (
        _lerobot_usage(policy_type, repo)
        if lerobot
        else (
            f"LeRobot cannot load this policy: `{policy_type}` comes from the `{distribution}` plugin, which has no "
            f"LeRobot policy class. Load it with policyzoo as above.\n"
        )
    )
    return f"""## Use it

With policyzoo (`pip install {distribution}`):

```python
import policyzoo

policy = policyzoo.load_policy("{repo}")
action = policy.select_action(observation)  # unnormalized, in the robot's units
```

```bash
{deploy}
```

{lerobot_part}"""


def _lerobot_usage(policy_type: str, repo: str) -> str:
    return f"""With LeRobot alone (`pip install lerobot`):

```python
from lerobot.configs.policies import PreTrainedConfig
from lerobot.policies.factory import get_policy_class, make_pre_post_processors

config = PreTrainedConfig.from_pretrained("{repo}")
policy = get_policy_class("{policy_type}").from_pretrained("{repo}", config=config)
preprocessor, postprocessor = make_pre_post_processors(config, pretrained_path="{repo}")
action = postprocessor(policy.select_action(preprocessor(observation)))
```
"""


def _check(report: ExportReport) -> str:
    lines = ["## Export check", ""]
    lines += [f"- {line}" for line in report.checks] or ["- not run"]
    for change in report.scrubbed:
        if change.file == "policyzoo.json":
            lines.append(f"- A local path or token was removed from the record `{change.where}`.")
        elif change.file.endswith(".safetensors"):
            lines.append(
                f"- A local path or token was removed from the metadata of `{change.file}` "
                f"(`{change.where}`); the tensors are unchanged."
            )
        else:
            lines.append(
                f"- Local value removed: `{change.file}` `{change.where}` is now `{change.after}`; "
                f"set it to something that resolves on your machine (e.g. a Hub id) before loading."
            )
    return "\n".join(lines) + "\n"


def plugin_sections(meta: dict[str, Any]) -> list[str]:
    """Markdown that plugins add through the `model_card_sections` hook; a failing plugin is left out (and
    recorded for `policyzoo plugins doctor`)."""
    from policyzoo.plugins import get_plugins

    return [
        text
        for text in get_plugins().call("model_card_sections", meta=meta)
        if isinstance(text, str) and text.strip()
    ]


def _number(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _cell(value: str) -> str:
    return value.replace("|", "\\|").replace("\n", " ")
