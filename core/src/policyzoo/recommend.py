"""Which policy to train: the guide's decision matrix as code, fed by the policy cards and by facts.

Facts come from the dataset's `meta/info.json` (episodes, cameras, rewards, tasks), the GPU memory and
the user's goal. Hard limits (no rewards for a reward-based method, too little GPU memory, images a
policy cannot take) rule a policy out; everything else adds or removes points, each with its reason.
Pure Python: never imports torch or LeRobot.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from policyzoo.catalogue import FIRST_PARTY
from policyzoo.errors import BadInput
from policyzoo.specs import Features, PolicyCard

Goal = Literal["production", "research", "limited-data", "contact-rich", "long-horizon"]
GOALS: tuple[str, ...] = ("production", "research", "limited-data", "contact-rich", "long-horizon")

# The decision matrix: how well each first-party policy fits each goal (0-5), and why.
MATRIX: dict[str, dict[str, tuple[int, str]]] = {
    "production": {
        "act": (5, "reliable on real arms, fast chunked inference on modest GPUs"),
        "diffusion": (3, "robust but slower: about 10 Hz with 10 DDIM steps"),
        "vqbet": (3, "fast inference, but one camera only"),
        "smolvla": (2, "slow per chunk: needs async inference for smooth real-time control"),
        "tdmpc": (1, "plans at every step and needs a reward signal; little real-arm evidence"),
    },
    "research": {
        "smolvla": (5, "vision-language-action model: language, multi-task, pretrained on community data"),
        "diffusion": (4, "strong, widely used baseline for multimodal behaviour"),
        "vqbet": (3, "discrete latent actions: a useful comparison point"),
        "tdmpc": (3, "model-based RL: planning with a learned world model"),
        "act": (3, "the standard imitation baseline"),
    },
    "limited-data": {
        "act": (5, "learns a task from about 50 demonstrations"),
        "smolvla": (4, "pretrained backbone: about 50 episodes per task to fine-tune"),
        "diffusion": (2, "wants about 100-200 demonstrations"),
        "vqbet": (2, "its Push-T results used about 200 demonstrations"),
        "tdmpc": (1, "offline from few episodes is not what it was made for"),
    },
    "contact-rich": {
        "diffusion": (5, "smooth, multimodal action trajectories suit contact-rich motion"),
        "act": (4, "precise fine manipulation (its paper: bimanual insertion, battery slotting)"),
        "vqbet": (3, "captures multimodal actions"),
        "smolvla": (3, "flow-matching action expert gives smooth chunks"),
        "tdmpc": (2, "needs a dense reward for contact"),
    },
    "long-horizon": {
        "smolvla": (5, "task text can steer a long task step by step"),
        "act": (3, "action chunks reduce compounding errors over long episodes"),
        "diffusion": (3, "receding-horizon chunks stay stable over long tasks"),
        "vqbet": (2, "short action context"),
        "tdmpc": (1, "plans over a short horizon with a learned value"),
    },
}

# Words in a card's best_for / not_for that speak to a goal: how third-party cards enter the matrix.
GOAL_WORDS: dict[str, tuple[str, ...]] = {
    "production": ("low-latency", "real-time", "fast", "reliable", "production"),
    "research": ("research", "language", "multi-task", "generalist"),
    "limited-data": ("small datasets", "few demonstrations", "limited data", "data-efficient"),
    "contact-rich": ("contact", "multimodal", "smooth"),
    "long-horizon": ("long-horizon", "long horizon", "multi-step", "language"),
}


@dataclass(frozen=True)
class Facts:
    """What is known about the data, the machine and the wish."""

    goal: str = "production"
    language: bool | None = None
    gpu_memory_gb: float | None = None
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
    card: PolicyCard
    installed: bool
    distribution: str
    score: int = 0
    eligible: bool = True
    reasons: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return display_name(self.type, self.card)

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
    """Installed policy types with their cards, plus first-party ones that are not installed."""
    from policyzoo.cards import CARDS
    from policyzoo.registry import get_registry

    found = {entry.type: Candidate(entry.type, entry.card, True, entry.distribution)
             for entry in get_registry().policies.values()}
    for policy_type, known in FIRST_PARTY.items():
        if policy_type not in found and policy_type in CARDS:
            found[policy_type] = Candidate(policy_type, CARDS[policy_type], False, known.distribution)
    return list(found.values())


def recommend(facts: Facts, pool: list[Candidate] | None = None) -> list[Candidate]:
    """Every candidate scored against `facts`: eligible ones first, best score first."""
    if facts.goal not in GOALS:
        raise BadInput(f"--goal={facts.goal}: allowed values are {', '.join(GOALS)}")
    pool = candidates() if pool is None else pool
    for candidate in pool:
        _goal(candidate, facts)
        _language(candidate, facts)
        _memory(candidate, facts)
        _data(candidate, facts)
        if not candidate.installed:
            candidate.reasons.append(f"· not installed: pip install {candidate.distribution}")
    return sorted(pool, key=lambda c: (not c.eligible, -c.score, c.type))


def _goal(candidate: Candidate, facts: Facts) -> None:
    row = MATRIX[facts.goal]
    if candidate.type in row:
        points, why = row[candidate.type]
        candidate.add(points, f"{facts.goal}: {why}")
        return
    card = candidate.card
    words = GOAL_WORDS[facts.goal]
    good = [item for item in card.best_for if any(word in item.lower() for word in words)]
    bad = [item for item in card.not_for if any(word in item.lower() for word in words)]
    points = max(0, min(5, 2 + 2 * len(good) - 2 * len(bad)))
    detail = "; ".join([f"best for {item}" for item in good] + [f"not for {item}" for item in bad])
    candidate.add(points, f"{facts.goal}: {detail or 'its card says nothing about this goal'}")


def _language(candidate: Candidate, facts: Facts) -> None:
    card = candidate.card
    takes_text = card.needs_language or any("language" in item.lower() for item in card.best_for)
    ignores_text = any("language" in item.lower() for item in card.not_for)
    if facts.wants_language:
        why = "--language=true" if facts.language else f"the dataset has {facts.tasks} tasks"
        if takes_text:
            candidate.add(3, f"follows the task text ({why})")
        else:
            candidate.add(-3 if ignores_text else -2, f"ignores the task text ({why}): one policy per task")
    elif card.needs_language:
        candidate.add(-1, "needs a task text per sample (LeRobot datasets have one); its language skills go unused")


def _memory(candidate: Candidate, facts: Facts) -> None:
    low, high = candidate.card.train_memory_gb
    need = f"about {low:g}–{high:g} GB to train" if high > low else f"about {low:g} GB to train"
    if facts.gpu_memory_gb is None:
        if low >= 8:
            candidate.add(-2, f"no GPU detected and it needs {need}: training on the CPU is very slow")
        return
    have = facts.gpu_memory_gb
    if have < low:
        candidate.rule_out(f"needs {need}, {have:g} GB available")
    elif have < high:
        candidate.add(-1, f"needs {need}, {have:g} GB available: use a smaller batch or --policy.use_amp=true")
    else:
        candidate.add(1, f"fits the GPU ({need}, {have:g} GB available)")


def _data(candidate: Candidate, facts: Facts) -> None:
    card = candidate.card
    features = facts.features
    if features is None:
        return
    if card.needs_reward and not features.has_reward:
        candidate.rule_out("the dataset has no rewards (next.reward)")
    cameras = len(features.visual)
    if cameras < card.min_cameras:
        candidate.rule_out(f"needs at least {card.min_cameras} camera(s), the dataset has {cameras}")
    if card.max_cameras is not None and cameras > card.max_cameras:
        if card.max_cameras == 0:
            candidate.rule_out(f"takes no cameras, the dataset has {cameras}")
        else:
            first = sorted(features.visual)[0]
            candidate.add(-2, f"takes at most {card.max_cameras} camera(s), the dataset has {cameras}: train on one with "
                              f"--policy.image_key={first}")
    if "square" in card.cameras.lower():
        shapes = {shape[1:] for shape in features.visual.values()}
        if any(height != width for height, width in shapes):
            sizes = ", ".join(f"{h}x{w}" for h, w in sorted(shapes))
            candidate.rule_out(f"needs square images, the dataset's are {sizes}")
    if "same shape" in card.cameras.lower() and len({shape for shape in features.visual.values()}) > 1:
        candidate.rule_out("needs all cameras to have the same shape, the dataset's differ")
    _episodes(candidate, facts)


def _episodes(candidate: Candidate, facts: Facts) -> None:
    wanted = episodes_wanted(candidate.card.episodes_needed.value)
    if facts.episodes is None or wanted is None:
        return
    per_task = " per task" if "per task" in candidate.card.episodes_needed.value else ""
    if facts.episodes < wanted:
        candidate.add(-2, f"the dataset has {facts.episodes} episodes; its card suggests about {wanted}{per_task}")
    else:
        candidate.add(1, f"enough data: {facts.episodes} episodes (card: about {wanted}{per_task})")


def episodes_wanted(text: str) -> int | None:
    """The smallest number of episodes a card's text asks for ('about 100-200 ...' -> 100), if any."""
    match = re.search(r"(\d+)(?:\s*-\s*\d+)?\s*(?:demonstrations|episodes|demos)", text)
    return int(match.group(1)) if match else None


def train_command(winner: Candidate, facts: Facts) -> str:
    """The exact `policyzoo train` line for the winner."""
    parts = ["policyzoo train"]
    if facts.dataset_flag:
        parts.append(facts.dataset_flag)
    parts.append(f"--policy.type={winner.type}")
    parts.append(f"--policy.device={'cuda' if facts.gpu_memory_gb else 'cpu'}")
    if facts.gpu_memory_gb:
        low, high = winner.card.train_memory_gb
        parts.append("--batch_size=8" if facts.gpu_memory_gb >= high else "--batch_size=4")
        if facts.gpu_memory_gb < high:
            parts.append("--policy.use_amp=true")
    features = facts.features
    if features and winner.card.max_cameras and len(features.visual) > winner.card.max_cameras:
        parts.append(f"--policy.image_key={sorted(features.visual)[0]}")
    parts.append(f"--output_dir=outputs/train/{winner.type}")
    return " ".join(parts)


# -- facts from the machine and the dataset ----------------------------------------------------------


def detect_gpu_memory_gb() -> float | None:
    """Total memory of the largest NVIDIA GPU (from nvidia-smi), or None when there is none."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        output = subprocess.run(["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
                                capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    sizes = [float(line) for line in output.split() if re.fullmatch(r"\d+(\.\d+)?", line)]
    return round(max(sizes) / 1024, 1) if sizes else None


def dataset_info(repo_id: str | None, root: str | None) -> dict:
    """The content of a dataset's meta/info.json, from --dataset.root or the local LeRobot cache."""
    if root:
        path = Path(root).expanduser() / "meta" / "info.json"
        flag = f"--dataset.root={root}"
    elif repo_id:
        import os

        home = Path(os.environ.get("HF_LEROBOT_HOME", Path(os.environ.get("HF_HOME", "~/.cache/huggingface"))
                                   / "lerobot")).expanduser()
        path = home / repo_id / "meta" / "info.json"
        flag = f"--dataset.repo_id={repo_id}"
        if not path.is_file():
            path = _download_info(repo_id, flag)
    else:
        return {}
    if not path.is_file():
        raise BadInput(f"{flag}: no meta/info.json at {path.parent.parent}; point it at a LeRobot dataset folder")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise BadInput(f"{flag}: {path} is not valid JSON ({exc})") from None


def _download_info(repo_id: str, flag: str) -> Path:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise BadInput(f"{flag}: not in the local LeRobot cache; pass --dataset.root=DIR "
                       f"(or install huggingface_hub to read it from the Hub)") from None
    try:
        return Path(hf_hub_download(repo_id, "meta/info.json", repo_type="dataset"))
    except Exception as exc:  # offline, missing repo, no access: all mean the same to the user
        raise BadInput(f"{flag}: cannot read meta/info.json from the Hub ({type(exc).__name__}); "
                       f"pass --dataset.root=DIR for a local copy") from None


def facts_from(goal: str, language: bool | None, gpu_memory_gb: float | None, repo_id: str | None,
               root: str | None) -> Facts:
    info = dataset_info(repo_id, root)
    flag = " ".join(part for part in (f"--dataset.repo_id={repo_id}" if repo_id else "",
                                      f"--dataset.root={root}" if root else "") if part)
    if not info:
        return Facts(goal=goal, language=language, gpu_memory_gb=gpu_memory_gb)
    return Facts(goal=goal, language=language, gpu_memory_gb=gpu_memory_gb, dataset=repo_id or root,
                 dataset_flag=flag, features=Features.from_info(info), episodes=info.get("total_episodes"),
                 tasks=info.get("total_tasks"))
