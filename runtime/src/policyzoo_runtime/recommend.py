"""Which policy to train: the guide's decision matrix as code, fed by the policy cards and by facts.

Facts come from the dataset's `meta/info.json` (episodes, cameras, rewards, tasks), the GPU memory and
the user's goal. Hard limits (no rewards for a reward-based method, too little GPU memory, images a
policy cannot take) rule a policy out; everything else adds or removes points, each with its reason.
Every policy is judged by the fields of its card alone (`Guide.goals` for the goal, the camera, reward,
language and memory fields for the rest): a third-party card is ranked exactly like a first-party one, a
card silent about the goal gets no points for it, and a card without a guide is left unranked, with a note.
Pure Python: never imports torch or LeRobot.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field

from policyzoo._catalogue import FIRST_PARTY
from policyzoo.card import GOALS, PolicyCard
from policyzoo.errors import BadInput
from policyzoo.features import Features

GPU_ONLY_GB = 8
"""A policy whose card needs at least this much GPU memory to train at batch 8 is ruled out without a GPU."""
NO_GUIDE = "no guide data: its card has no guide (PolicyCard.guide), so it is not ranked"


@dataclass(frozen=True)
class Facts:
    """What is known about the data, the machine and the wish."""

    goal: str = "production"
    language: bool | None = None
    gpu_memory_gb: float | None = None
    gpu_here: bool = True
    """This machine has an NVIDIA GPU (else the train line names `auto`, which works here and on a GPU)."""
    dataset: str | None = None
    dataset_flag: str = ""
    features: Features | None = None
    episodes: int | None = None
    tasks: int | None = None

    @property
    def wants_language(self) -> bool:
        if self.language is not None:
            return self.language
        return bool(self.tasks and self.tasks > 1)


@dataclass
class Candidate:
    type: str
    card: PolicyCard | None
    """None for a catalogued type that is not installed: its card ships with its plugin."""
    installed: bool
    distribution: str
    score: int = 0
    eligible: bool = True
    reasons: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return display_name(self.type, self.card) if self.card else self.type

    def add(self, points: int, reason: str) -> None:
        self.score += points
        sign = "+" if points > 0 else "-" if points < 0 else "·"
        self.reasons.append(f"{sign}{abs(points) if points else ''} {reason}")

    def rule_out(self, reason: str) -> None:
        self.eligible = False
        self.reasons.append(f"ruled out: {reason}")


def display_name(policy_type: str, card: PolicyCard) -> str:
    """'ACT' for 'Action Chunking Transformer (ACT)', the title otherwise."""
    match = re.search(r"\(([^)]+)\)\s*$", card.title)
    return match.group(1) if match else card.title or policy_type


def candidates() -> list[Candidate]:
    """Installed policy types with their cards, plus catalogued ones that are not installed (no card)."""
    from policyzoo.registry import get_registry

    registry = get_registry()
    found = {
        entry.type: Candidate(entry.type, entry.card, True, entry.distribution)
        for entry in registry.policies.values()
    }
    for policy_type, known in FIRST_PARTY.items():
        if policy_type not in found and policy_type not in registry.policy_clashes:
            found[policy_type] = Candidate(policy_type, None, False, known.distribution)
    return list(found.values())


def recommend(facts: Facts, pool: list[Candidate] | None = None) -> list[Candidate]:
    """Every candidate scored against `facts`: eligible ones first, best score first; uninstalled ones last."""
    if facts.goal not in GOALS:
        raise BadInput(f"--goal={facts.goal}: allowed values are {', '.join(GOALS)}")
    pool = candidates() if pool is None else pool
    for candidate in pool:
        if candidate.card is None:
            candidate.eligible = False
            candidate.reasons.append(
                f"· not installed: pip install {candidate.distribution} (its card, which "
                f"says how well it fits, comes with it)"
            )
            continue
        if candidate.card.guide is None:
            candidate.eligible = False
            candidate.reasons.append(f"· {NO_GUIDE}")
            continue
        _goal(candidate, facts)
        _language(candidate, facts)
        _memory(candidate, facts)
        _data(candidate, facts)
        if not candidate.installed:
            candidate.reasons.append(f"· not installed: pip install {candidate.distribution}")
    return sorted(
        pool,
        key=lambda c: (
            c.card is None,
            c.card is not None and c.card.guide is None,
            not c.eligible,
            -c.score,
            c.type,
        ),
    )


def _goal(candidate: Candidate, facts: Facts) -> None:
    fit = candidate.card.guide.goals.get(facts.goal)
    if fit is None:
        candidate.add(0, f"{facts.goal}: its card says nothing about this goal, so no points for it")
        return
    sources = f" [{'; '.join(fit.sources)}]" if fit.sources else ""
    candidate.add(fit.score, f"{facts.goal}: {fit.reason}{sources}")


def _language(candidate: Candidate, facts: Facts) -> None:
    card, guide = candidate.card, candidate.card.guide
    takes_text = card.needs_language or any("language" in item.lower() for item in guide.best_for)
    ignores_text = any("language" in item.lower() for item in guide.not_for)
    if facts.wants_language:
        why = "--language=true" if facts.language else f"the dataset has {facts.tasks} tasks"
        if takes_text:
            candidate.add(3, f"follows the task text ({why})")
        else:
            candidate.add(-3 if ignores_text else -2, f"ignores the task text ({why}): one policy per task")
    elif card.needs_language:
        candidate.add(
            -1, "needs a task text per sample (LeRobot datasets have one); its language skills go unused"
        )


def _memory(candidate: Candidate, facts: Facts) -> None:
    low, high = candidate.card.guide.train_memory_gb
    need = f"about {low:g}–{high:g} GB to train" if high > low else f"about {low:g} GB to train"
    if facts.gpu_memory_gb is None:
        if low >= GPU_ONLY_GB:
            candidate.rule_out(
                f"needs a GPU ({need} at batch 8) and there is none; if nvidia-smi misses yours, "
                f"pass --gpu_memory_gb=N"
            )
        return
    have = facts.gpu_memory_gb
    if have < low:
        candidate.rule_out(f"needs {need}, {have:g} GB available")
    elif have < high:
        candidate.add(
            -1, f"needs {need}, {have:g} GB available: use a smaller batch or --policy.use_amp=true"
        )
    else:
        candidate.add(1, f"fits the GPU ({need}, {have:g} GB available)")


def _data(candidate: Candidate, facts: Facts) -> None:
    card, guide = candidate.card, candidate.card.guide
    features = facts.features
    if features is None:
        return
    if card.needs_reward and not features.has_reward:
        candidate.rule_out("the dataset has no rewards (next.reward)")
    cameras = len(features.visual)
    if cameras < guide.min_cameras:
        candidate.rule_out(f"needs at least {guide.min_cameras} camera(s), the dataset has {cameras}")
    if guide.max_cameras is not None and cameras > guide.max_cameras:
        if guide.max_cameras == 0:
            candidate.rule_out(f"takes no cameras, the dataset has {cameras}")
        else:
            first = sorted(features.visual)[0]
            candidate.add(
                -2,
                f"takes at most {guide.max_cameras} camera(s), the dataset has {cameras}: "
                f"train on one with --policy.image_key={first}",
            )
    if guide.square_images:
        shapes = {shape[1:] for shape in features.visual.values()}
        if any(height != width for height, width in shapes):
            sizes = ", ".join(f"{h}x{w}" for h, w in sorted(shapes))
            candidate.rule_out(f"needs square images, the dataset's are {sizes}")
    if guide.same_shape_cameras and len(set(features.visual.values())) > 1:
        candidate.rule_out("needs all cameras to have the same shape, the dataset's differ")
    _episodes(candidate, facts)


def _episodes(candidate: Candidate, facts: Facts) -> None:
    needed = candidate.card.guide.episodes_needed.value
    wanted = episodes_wanted(needed)
    if facts.episodes is None or wanted is None:
        return
    per_task = " per task" if "per task" in needed else ""
    if facts.episodes < wanted:
        candidate.add(
            -2, f"the dataset has {facts.episodes} episodes; its card suggests about {wanted}{per_task}"
        )
    else:
        candidate.add(1, f"enough data: {facts.episodes} episodes (card: about {wanted}{per_task})")


def episodes_wanted(text: str) -> int | None:
    """The smallest number of episodes a card's text asks for ('about 100-200 ...' -> 100), if any."""
    match = re.search(r"(\d+)(?:\s*-\s*\d+)?\s*(?:demonstrations|episodes|demos)", text)
    return int(match.group(1)) if match else None


def train_command(winner: Candidate, facts: Facts) -> str:
    """The exact `policyzoo train` line for the winner: fine-tuning its card's pretrained base when it has one,
    with the --steps of its card (a card without a guide: the plain line)."""
    guide = winner.card.guide
    base = guide.pretrained_base if guide else None
    parts = ["policyzoo train"]
    if facts.dataset_flag:
        parts.append(facts.dataset_flag)
    parts.append(f"--policy.path={base.repo_id}" if base else f"--policy.type={winner.type}")
    parts.append(f"--policy.device={gpu_device(facts) if facts.gpu_memory_gb else 'cpu'}")
    if facts.gpu_memory_gb and guide:
        low, high = guide.train_memory_gb
        parts.append("--batch_size=8" if facts.gpu_memory_gb >= high else "--batch_size=4")
        if facts.gpu_memory_gb < high:
            parts.append("--policy.use_amp=true")
    features = facts.features
    if features and guide and guide.max_cameras and len(features.visual) > guide.max_cameras:
        parts.append(f"--policy.image_key={sorted(features.visual)[0]}")
    if base and features and base.cameras:
        pairs = {
            camera: name
            for camera, name in zip(features.visual, base.cameras, strict=False)
            if camera != name
        }
        if pairs:
            parts.append(f"--rename_map='{json.dumps(pairs)}'")
    steps = base.steps if base else (guide.train_steps if guide else None)
    if steps is not None:
        parts.append(f"--steps={steps}")
    return " ".join(parts)  # no --output_dir: train writes to a new dated folder each run


def gpu_device(facts: Facts) -> str:
    """`cuda` for a GPU on this machine; `auto` for a GPU asked about elsewhere (it picks the GPU where there is
    one), so the line also runs when pasted here."""
    return "cuda" if facts.gpu_here else "auto"


# -- facts from the machine and the dataset ----------------------------------------------------------


def detect_gpu_memory_gb() -> float | None:
    """Total memory of the largest NVIDIA GPU (from nvidia-smi), or None when there is none."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        output = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    sizes = [float(line) for line in output.split() if re.fullmatch(r"\d+(\.\d+)?", line)]
    return round(max(sizes) / 1024, 1) if sizes else None


def dataset_info(repo_id: str | None, root: str | None) -> dict:
    """The content of a dataset's meta/info.json, from --dataset.root, the local LeRobot cache or the Hub."""
    from policyzoo_runtime.datasets import INFO_FILE, fetch_info, locate

    found = locate(root, repo_id, fetch=fetch_info, sample=False)
    if found is None:
        return {}
    path = found.root / INFO_FILE
    flag = f"{found.flag}={root or repo_id}"
    if not path.is_file():
        raise BadInput(
            f"{flag}: no meta/info.json at {path.parent.parent}; point it at a LeRobot dataset folder"
        )
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise BadInput(f"{flag}: {path} is not valid JSON ({exc})") from None


def facts_from(
    goal: str, language: bool | None, gpu_memory_gb: float | None, repo_id: str | None, root: str | None
) -> Facts:
    from policyzoo_runtime.devices import nvidia_driver_present

    info = dataset_info(repo_id, root)
    gpu_here = nvidia_driver_present()
    flag = " ".join(
        part
        for part in (
            f"--dataset.repo_id={repo_id}" if repo_id else "",
            f"--dataset.root={root}" if root else "",
        )
        if part
    )
    if not info:
        return Facts(goal=goal, language=language, gpu_memory_gb=gpu_memory_gb, gpu_here=gpu_here)
    return Facts(
        goal=goal,
        language=language,
        gpu_memory_gb=gpu_memory_gb,
        gpu_here=gpu_here,
        dataset=repo_id or root,
        dataset_flag=flag,
        features=Features.from_info(info),
        episodes=info.get("total_episodes"),
        tasks=info.get("total_tasks"),
    )
