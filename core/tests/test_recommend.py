"""`policyzoo recommend`: the decision matrix over the policy cards and the facts of data, GPU and goal."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from policyzoo._catalogue import FIRST_PARTY
from policyzoo.card import GOALS, GoalFit, Guide, PolicyCard, Source
from policyzoo.registry import get_registry
from policyzoo_runtime.recommend import (
    GPU_ONLY_GB,
    Candidate,
    Facts,
    episodes_wanted,
    facts_from,
    recommend,
    train_command,
)


def card(policy_type: str) -> PolicyCard:
    return get_registry().policy(policy_type).card


def guide(policy_type: str) -> Guide:
    return card(policy_type).guide


def first_party() -> list[Candidate]:
    return [Candidate(t, card(t), True, FIRST_PARTY[t].distribution) for t in FIRST_PARTY]


def by_type(ranking: list[Candidate]) -> dict[str, Candidate]:
    return {candidate.type: candidate for candidate in ranking}


def write_dataset(
    root: Path, *, cameras: dict[str, tuple[int, int]], reward: bool, episodes: int, tasks: int
) -> Path:
    features = {
        "observation.state": {"dtype": "float32", "shape": [12], "names": None},
        "action": {"dtype": "float32", "shape": [12], "names": None},
        "task_index": {"dtype": "int64", "shape": [1], "names": None},
    }
    for name, (height, width) in cameras.items():
        features[f"observation.images.{name}"] = {
            "dtype": "video",
            "shape": [height, width, 3],
            "names": ["height", "width", "channels"],
        }
    if reward:
        features["next.reward"] = {"dtype": "float32", "shape": [1], "names": None}
    (root / "meta").mkdir(parents=True)
    (root / "meta" / "info.json").write_text(
        json.dumps(
            {
                "codebase_version": "v3.0",
                "robot_type": "so101_bimanual",
                "total_episodes": episodes,
                "total_frames": episodes * 300,
                "total_tasks": tasks,
                "fps": 30,
                "features": features,
            }
        )
    )
    return root


def test_research_with_language_on_24_gb_ranks_smolvla_first():
    ranking = recommend(Facts(goal="research", language=True, gpu_memory_gb=24), first_party())
    assert ranking[0].type == "smolvla" and ranking[0].eligible
    assert all(candidate.eligible for candidate in ranking)
    assert any("follows the task text" in reason for reason in ranking[0].reasons)


def test_production_on_4_gb_ranks_act_first_and_rules_smolvla_out():
    ranking = recommend(Facts(goal="production", gpu_memory_gb=4), first_party())
    assert ranking[0].type == "act"
    smolvla = by_type(ranking)["smolvla"]
    assert not smolvla.eligible
    assert "ruled out: needs about 10–16 GB to train, 4 GB available" in smolvla.reasons
    assert not by_type(ranking)["diffusion"].eligible
    assert [c.eligible for c in ranking] == sorted((c.eligible for c in ranking), reverse=True)


def test_dataset_facts_rule_out_and_penalize(tmp_path):
    root = write_dataset(
        tmp_path / "data",
        cameras={"left_top": (96, 128), "right_front": (96, 128)},
        reward=False,
        episodes=20,
        tasks=1,
    )
    facts = facts_from("limited-data", None, 12.0, None, str(root))
    assert facts.episodes == 20 and facts.tasks == 1 and not facts.wants_language
    ranking = by_type(recommend(facts, first_party()))
    assert "ruled out: the dataset has no rewards (next.reward)" in ranking["tdmpc"].reasons
    assert "ruled out: needs square images, the dataset's are 96x128" in ranking["tdmpc"].reasons
    assert any(
        "takes at most 1 camera(s), the dataset has 2: train on one with "
        "--policy.image_key=observation.images.left_top" in reason
        for reason in ranking["vqbet"].reasons
    )
    assert any(
        "the dataset has 20 episodes; its card suggests about 50 per task" in reason
        for reason in ranking["act"].reasons
    )
    assert ranking["act"].eligible and ranking["vqbet"].eligible


def test_many_tasks_mean_language():
    facts = Facts(goal="long-horizon", gpu_memory_gb=24, tasks=5)
    ranking = recommend(facts, first_party())
    assert facts.wants_language and ranking[0].type == "smolvla"
    assert any("the dataset has 5 tasks" in reason for reason in ranking[0].reasons)


@pytest.mark.parametrize("goal", GOALS)
@pytest.mark.parametrize("language", [True, False, None])
def test_without_a_gpu_no_policy_that_needs_one_comes_first(goal, language):
    ranking = recommend(Facts(goal=goal, language=language, gpu_memory_gb=None, tasks=5), first_party())
    winner = next(candidate for candidate in ranking if candidate.eligible)
    assert winner.card.guide.train_memory_gb[0] < GPU_ONLY_GB
    for heavy in ("smolvla", "diffusion"):
        assert not by_type(ranking)[heavy].eligible
        assert any(
            reason.startswith("ruled out: needs a GPU (about ") for reason in by_type(ranking)[heavy].reasons
        )
    assert "--policy.type=smolvla" not in train_command(winner, Facts(goal=goal, gpu_memory_gb=None))


def test_train_command_for_the_winner(tmp_path, monkeypatch):
    monkeypatch.setattr("policyzoo_runtime.devices.nvidia_driver_present", lambda: True)
    root = write_dataset(
        tmp_path / "data", cameras={"top": (96, 96), "wrist": (96, 96)}, reward=True, episodes=200, tasks=1
    )
    facts = facts_from("production", False, 5.0, None, str(root))
    winner = recommend(facts, first_party())[0]
    assert winner.type == "act"
    assert train_command(winner, facts) == (
        f"policyzoo train --dataset.root={root} --policy.type=act --policy.device=cuda --batch_size=4 "
        f"--policy.use_amp=true --steps={guide('act').train_steps}"
    )


@pytest.mark.parametrize("policy_type", sorted(FIRST_PARTY))
def test_the_winner_line_takes_its_steps_from_the_card_and_names_no_output_dir(policy_type):
    winner = Candidate(policy_type, card(policy_type), True, FIRST_PARTY[policy_type].distribution)
    line = train_command(winner, Facts(gpu_memory_gb=24))
    base = guide(policy_type).pretrained_base
    steps = base.steps if base else guide(policy_type).train_steps
    assert f" --steps={steps}" in line and "--output_dir" not in line
    assert guide(policy_type).train_steps_source
    assert (f"--policy.path={base.repo_id} " in line) if base else (f"--policy.type={policy_type} " in line)


def test_a_card_without_steps_leaves_them_to_train():
    steps = card("act").model_copy(update={"guide": guide("act").model_copy(update={"train_steps": 12_345})})
    assert train_command(Candidate("act", steps, True, "x"), Facts()).endswith(" --steps=12345")
    line = train_command(Candidate("grasp_net", third_party_card(), True, "x"), Facts())
    assert line == "policyzoo train --policy.type=grasp_net --policy.device=cpu"


def test_train_steps_need_a_source():
    with pytest.raises(ValidationError, match="train_steps needs train_steps_source"):
        Guide(**{**third_party_card().guide.model_dump(), "train_steps": 1000})


def test_episode_counts_read_from_cards():
    assert episodes_wanted(guide("act").episodes_needed.value) == 50
    assert episodes_wanted(guide("diffusion").episodes_needed.value) == 100
    assert episodes_wanted("no published figure") is None


def test_cli_json(run_cli, tmp_path):
    root = write_dataset(tmp_path / "data", cameras={"top": (96, 96)}, reward=False, episodes=60, tasks=1)
    code, out, err = run_cli(
        "recommend", f"--dataset.root={root}", "--gpu-memory-gb=4", "--goal=production", "--json"
    )
    assert code == 0, err
    result = json.loads(out)
    first = result["ranking"][0]
    assert set(first) >= {"type", "eligible", "score", "reasons"}
    assert first["type"] == "act" and first["eligible"]
    smolvla = next(row for row in result["ranking"] if row["type"] == "smolvla")
    assert not smolvla["eligible"] and smolvla["score"] is None
    assert result["train_command"].startswith(f"policyzoo train --dataset.root={root} --policy.type=act ")


def test_a_gpu_asked_about_on_a_machine_without_one_gets_auto(run_cli, monkeypatch):
    monkeypatch.setattr("policyzoo_runtime.devices.nvidia_driver_present", lambda: False)
    code, out, _ = run_cli("recommend", "--goal=research", "--language=true", "--gpu-memory-gb=8")
    assert code == 0
    line = out.split("train the winner:\n  ")[1].splitlines()[0]
    assert "--policy.device=auto" in line and "cuda" not in line
    assert "this machine has no NVIDIA GPU: `auto` trains on the GPU of the machine you run it on" in out


def test_cli_table(run_cli, monkeypatch):
    monkeypatch.setattr("policyzoo_runtime.devices.nvidia_driver_present", lambda: True)
    code, out, _ = run_cli("recommend", "--goal=research", "--language=true", "--gpu-memory-gb=24")
    assert code == 0
    assert out.splitlines()[2].startswith("1. SmolVLA (smolvla), score")
    assert (
        "train the winner:\n  policyzoo train --policy.path=lerobot/smolvla_base --policy.device=cuda" in out
    )
    code, out, _ = run_cli("recommend", "--goal=production", "--gpu-memory-gb=4")
    assert "-- SmolVLA (smolvla), ruled out\n" in out
    assert "     ruled out: needs about 10–16 GB to train, 4 GB available" in out


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--gpu-memory-gb=0"],
        ["--gpu-memory-gb=4"],
        ["--gpu-memory-gb=24"],
        ["--goal=research", "--language=true", "--gpu-memory-gb=0"],
        ["--goal=limited-data", "--gpu-memory-gb=12"],
    ],
)
def test_cli_lists_each_policy_once(run_cli, args):
    code, out, _ = run_cli("recommend", *args)
    assert code == 0
    heads = [
        re.match(r"^(?:\d+\.|--) (?:.* \((?P<named>[\w-]+)\)|(?P<bare>[\w-]+)),", line)
        for line in out.splitlines()
        if re.match(r"^(?:\d+\.|--) ", line)
    ]
    listed = [head.group("named") or head.group("bare") for head in heads]
    assert sorted(listed) == sorted(candidate.type for candidate in recommend(Facts()))  # each type, once
    assert "\nruled out:\n" not in out  # no second list of the ruled-out ones


def test_cli_without_a_gpu_never_trains_a_gpu_only_policy(run_cli):
    code, out, _ = run_cli("recommend", "--goal=research", "--language=true", "--gpu-memory-gb=0")
    assert code == 0
    first = out.splitlines()[2]
    assert first.startswith("1. ") and "SmolVLA" not in first
    command = out.split("train the winner:\n  ")[1].strip()
    assert "--policy.type=smolvla" not in command and "--policy.device=cpu" in command
    assert re.search(r" --steps=\d+$", command) and "--output_dir" not in command


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--goal=fast"], "--goal=fast: allowed values are production, research"),
        (["--gpu-memory-gb=lots"], "--gpu_memory_gb=lots: expected a number of GB"),
        (["--language=maybe"], "--language=maybe: expected true or false"),
        (["--dataset.root=/nonexistent/data"], "--dataset.root=/nonexistent/data: no meta/info.json"),
        (["--dataset.episodes=3"], "--dataset.episodes: unknown flag"),
        (["--gaol=research"], "--gaol: unknown flag. Did you mean --goal?"),
    ],
)
def test_cli_bad_input(run_cli, args, message):
    code, _, err = run_cli("recommend", *args)
    assert code == 2 and message in err and err.count("\n") == 1


def test_recommend_never_imports_torch():
    code = (
        "import sys\nfrom policyzoo.cli import main\n"
        "try:\n    main(['recommend', '--goal=research', '--gpu-memory-gb=8', '--json'])\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'lerobot', 'transformers') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"


# -- every card alike: the goal score is the card's own field, nothing else ---------------------------------


def third_party_card(**goals: GoalFit) -> PolicyCard:
    return PolicyCard(
        title="Grasp Net (GN)",
        summary="a third-party policy",
        architecture="a net",
        training="imitation",
        guide=Guide(
            cameras="any number",
            best_for=["low-latency control", "reliable production use"],
            not_for=[],
            episodes_needed=Source(value="no figure", source="-"),
            train_memory_gb=(1, 2),
            train_memory_source="-",
            inference_memory=Source(value="small", source="-"),
            latency=Source(value="fast", source="-"),
            parameters=Source(value="1 M", source="-"),
            goals={goal.replace("_", "-"): fit for goal, fit in goals.items()},
        ),
    )


def test_every_first_party_card_scores_every_goal():
    for policy_type in FIRST_PARTY:
        assert set(guide(policy_type).goals) == set(GOALS), policy_type


def test_a_third_party_card_ranks_by_its_goal_fields_like_a_first_party_one():
    gn = third_party_card(
        production=GoalFit(score=5, reason="measured on 30 real arms", sources=("GN paper",)),
        research=GoalFit(score=0, reason="nothing new in it"),
    )
    pool = [*first_party(), Candidate("grasp_net", gn, True, "policyzoo-grasp-net")]
    production = by_type(recommend(Facts(goal="production", gpu_memory_gb=24), pool))
    act = production["act"]
    assert production["grasp_net"].score == act.score  # the same points, from the same kind of field
    assert "+5 production: measured on 30 real arms [GN paper]" in production["grasp_net"].reasons
    assert any(r.startswith("+5 production: reliable on real arms") for r in act.reasons)
    pool = [*first_party(), Candidate("grasp_net", gn, True, "policyzoo-grasp-net")]
    research = by_type(recommend(Facts(goal="research", gpu_memory_gb=24), pool))
    assert "· research: nothing new in it" in research["grasp_net"].reasons
    # its prose ("low-latency", "reliable production use") earns nothing: only the goals field counts
    pool = [Candidate("grasp_net", third_party_card(), True, "policyzoo-grasp-net")]
    assert recommend(Facts(goal="production", gpu_memory_gb=24), pool)[0].score == 1  # the GPU fits: +1


def test_a_card_silent_about_the_goal_gets_no_points_and_says_why():
    [silent] = recommend(Facts(goal="contact-rich"), [Candidate("grasp_net", third_party_card(), True, "x")])
    assert silent.score == 0
    assert silent.reasons == ["· contact-rich: its card says nothing about this goal, so no points for it"]


def test_test_and_example_policies_do_not_outrank_real_ones_for_production():
    ranking = [c.type for c in recommend(Facts(goal="production", gpu_memory_gb=24)) if c.eligible]
    for silent in ("tiny", "mlp_bc"):
        if silent in ranking:
            assert ranking.index(silent) > max(
                ranking.index(t) for t in ("act", "vqbet", "diffusion", "tdmpc")
            )


def test_an_uninstalled_catalogued_type_says_what_to_install(monkeypatch):
    monkeypatch.delitem(get_registry().policies, "vqbet")
    ranking = recommend(Facts(goal="production", gpu_memory_gb=24))
    assert ranking[-1].type == "vqbet" and not ranking[-1].eligible and ranking[-1].card is None
    assert ranking[-1].reasons[0].startswith("· not installed: pip install policyzoo-vqbet")


def test_cli_ranks_an_in_process_third_party_plugin(run_cli, register_plugin):
    from policyzoo import PolicySpec, hookimpl

    class GraspNetSpec(PolicySpec):
        type = "grasp_net"

    class Plugin:
        @hookimpl
        def register_policies(self, register):
            register(
                GraspNetSpec,
                third_party_card(production=GoalFit(score=5, reason="made for it")),
                factory="nowhere:factory",
            )

    assert register_plugin(Plugin(), "grasp-net")
    code, out, _ = run_cli("recommend", "--goal=production", "--gpu-memory-gb=24", "--json")
    rows = {row["type"]: row for row in json.loads(out)["ranking"]}
    assert code == 0 and rows["grasp_net"]["score"] == rows["act"]["score"]
    assert "+5 production: made for it" in rows["grasp_net"]["reasons"]
