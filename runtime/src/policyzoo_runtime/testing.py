"""Contract tests for policy plugins: subclass `PolicyContract` in a test module of your plugin.

    from policyzoo_runtime.testing import PolicyContract

    class TestMyPolicy(PolicyContract):
        policy_type = "mine"
        spec_overrides = {"hidden_dim": 16}   # keep the model tiny

The default data are a bimanual SO101's: 12-dim state and action, two small cameras, normalization
stats computed from random data. Override the `features` fixture for other data (one square image,
rewards, a task text, ...), the `settings` fixture when the spec needs something built first (a local
model folder), and add your own tests beside the inherited ones.

A policy that LeRobot cannot load (a plain torch policy) sets `lerobot_interop = False`: the tests that
load its folders with LeRobot, or LeRobot's folders with policyzoo, are then not part of its contract
(they are not collected at all). Importing this module imports pytest and torch.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from policyzoo.api import build_policy, get_spec, load_policy, spec_schema
from policyzoo.capabilities import FACTORY_DECLARATIONS, HANDLE_DECLARATIONS, lerobot_loadable
from policyzoo.checkpoint import META_FILE, PICKLE_SUFFIXES
from policyzoo.features import ACTION_KEY, Features
from policyzoo.handle import PolicyHandle, module_of
from policyzoo.registry import get_registry
from policyzoo.spec import JointSpec, PolicySpec, RobotSpec
from policyzoo_runtime.synthetic import (
    TASK,
    bimanual_so101_features,
    handle_observation,
    random_batch,
    random_stats,
    robot_observation,
)

__all__ = [
    "TASK",
    "PolicyContract",
    "ReplayRobot",
    "assert_deploy_sends_what_select_action_gives",
    "bimanual_so101_features",
    "deploy_episode",
    "fill_hf_cache",
    "folder_files",
    "handle_observation",
    "lerobot_episode",
    "random_batch",
    "random_stats",
    "robot_observation",
    "run_episode",
]

HUB_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def fill_hf_cache(hub_cache: Path, repo_id: str, files: dict[str, Path | bytes]) -> Path:
    """Lay `files` out under `hub_cache` as huggingface_hub does (blobs by hash, snapshot links, refs/main), so
    that `repo_id` loads offline (`HF_HUB_OFFLINE=1`); the snapshot folder."""
    repo = Path(hub_cache) / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / HUB_COMMIT
    (repo / "blobs").mkdir(parents=True)
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(HUB_COMMIT)
    for name, content in files.items():
        data = content.read_bytes() if isinstance(content, Path) else content
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        (snapshot / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(os.path.relpath(blob, (snapshot / name).parent), snapshot / name)
    return snapshot


def folder_files(folder: Path) -> dict[str, Path]:
    """Every file under `folder` by its relative path: the `files` of `fill_hf_cache`."""
    return {str(path.relative_to(folder)): path for path in sorted(Path(folder).rglob("*")) if path.is_file()}


INTEROP_TESTS = (
    "test_spec_round_trips_through_lerobot_config",
    "test_saved_folder_loads_in_lerobot",
    "test_lerobot_folder_loads_in_policyzoo",
)


def run_episode(policy: PolicyHandle, observations: list[dict[str, Any]], seed: int = 0) -> torch.Tensor:
    """Reset, then one `select_action` per observation with a fixed seed: (N, A) actions."""
    policy.reset()
    torch.manual_seed(seed)
    return torch.stack([policy.select_action(observation) for observation in observations])


class ReplayRobot:
    """A robot that reads the given observations one per tick sent and keeps every target it is sent; its
    joint limits clip nothing."""

    def __init__(self, observations: list[dict[str, Any]], fps: int = 1000) -> None:
        joints = len(observations[0]["observation.state"])
        self.spec = RobotSpec(
            type="replay",
            fps=fps,
            joints=[
                JointSpec(name=f"joint{index}", unit="deg", lower=-1e9, upper=1e9) for index in range(joints)
            ],
        )
        self.observations = observations
        self.sent: list[np.ndarray] = []

    def connect(self) -> None: ...

    def observe(self) -> dict[str, Any]:
        return dict(self.observations[min(len(self.sent), len(self.observations) - 1)])

    def act(self, action: np.ndarray) -> None:
        self.sent.append(np.array(action, dtype=np.float32))

    def disconnect(self) -> None: ...


def deploy_episode(
    policy: PolicyHandle, robot_observations: list[dict[str, Any]], seed: int = 0
) -> torch.Tensor:
    """The actions `policyzoo deploy`'s control loop (in line) sends when the robot reads `robot_observations`,
    one per tick, with the seed `run_episode` uses: (N, A). It matches `run_episode` on the same observations for
    a policy whose chunks `select_action` executes whole."""
    from policyzoo_runtime.deploy import DeployConfig, run_loop

    robot = ReplayRobot(robot_observations)
    torch.manual_seed(seed)
    config = DeployConfig(fps=robot.spec.fps, duration_s=len(robot_observations) / robot.spec.fps)
    report = run_loop(robot, policy, config)
    assert report.ok, report.stop_reason
    return torch.from_numpy(np.stack(robot.sent))


def assert_deploy_sends_what_select_action_gives(
    policy: PolicyHandle, features: Features, stats: dict[str, dict[str, Any]], ticks: int, seed: int = 0
) -> None:
    """`ticks` random observations through the deploy loop (in line) and through `select_action` give the same
    actions: for a policy that reads past frames (`HistoryExtras`), the loop fed it the ticks between chunks.
    Choose `ticks` to span a few chunks."""
    policy.train_mode(False)
    robot = [robot_observation(features, stats, index) for index in range(ticks)]
    sent = deploy_episode(policy, robot, seed=seed)
    expected = run_episode(policy, [handle_observation(observation) for observation in robot], seed=seed)
    torch.testing.assert_close(sent, expected, rtol=1e-4, atol=1e-4)


def lerobot_episode(
    policy: Any,
    preprocessor: Any,
    postprocessor: Any,
    observations: list[dict[str, Any]],
    seed: int = 0,
    task: str | None = None,
) -> torch.Tensor:
    """The same as `run_episode`, through LeRobot's own inference path (`predict_action`)."""
    from lerobot.common.control_utils import predict_action

    policy.reset()
    torch.manual_seed(seed)
    actions = [
        predict_action(
            {k: v.copy() for k, v in observation.items()},
            policy,
            torch.device("cpu"),
            preprocessor,
            postprocessor,
            use_amp=False,
            task=task,
        ).reshape(-1)
        for observation in observations
    ]
    return torch.stack(actions)


# -- the contract -------------------------------------------------------------------------------------


class PolicyContract:
    """The tests every policy type passes. Set `policy_type`; tune the class attributes for a tiny model."""

    policy_type: ClassVar[str]
    spec_overrides: ClassVar[dict[str, Any]] = {}
    """Settings for a small, fast model (LeRobot field names)."""
    bad_settings: ClassVar[list[dict[str, Any]]] = []
    """Settings of this type that its spec must reject, besides the generic ones."""
    lerobot_interop: ClassVar[bool] = True
    """False for a policy LeRobot cannot load: its LeRobot-interop tests are then not collected."""
    batch_size: ClassVar[int] = 4
    train_steps: ClassVar[int] = 20
    train_lr: ClassVar[float | None] = 1e-3
    episode_length: ClassVar[int] = 3

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.lerobot_interop:
            for name in INTEROP_TESTS:  # not collected: pytest ignores non-callable attributes
                setattr(cls, name, None)

    # -- fixtures; override them for other data or set-up --------------------------------------------

    @pytest.fixture(scope="class")
    def features(self) -> Features:
        return bimanual_so101_features()

    @pytest.fixture(scope="class")
    def stats(self, features: Features) -> dict[str, dict[str, Any]]:
        return random_stats(features)

    @pytest.fixture(scope="class")
    def settings(self) -> dict[str, Any]:
        return {"device": "cpu", **self.spec_overrides}

    @pytest.fixture(scope="class")
    def spec(self, settings: dict[str, Any]) -> PolicySpec:
        return get_spec(self.policy_type)(**settings)

    @pytest.fixture(scope="class")
    def policy(self, spec: PolicySpec, features: Features, stats: dict[str, dict[str, Any]]) -> PolicyHandle:
        return build_policy(spec, features, stats)

    @pytest.fixture(scope="class")
    def task(self, features: Features) -> str | None:
        return TASK if features.has_language else None

    @pytest.fixture(scope="class")
    def robot_observations(
        self, features: Features, stats: dict[str, dict[str, Any]]
    ) -> list[dict[str, Any]]:
        return [robot_observation(features, stats, seed) for seed in range(self.episode_length)]

    @pytest.fixture(scope="class")
    def observations(
        self, robot_observations: list[dict[str, Any]], task: str | None
    ) -> list[dict[str, Any]]:
        return [handle_observation(observation, task) for observation in robot_observations]

    @pytest.fixture(scope="class")
    def saved(self, policy: PolicyHandle, tmp_path_factory: pytest.TempPathFactory) -> Path:
        directory = tmp_path_factory.mktemp(f"{self.policy_type}-saved") / "pretrained_model"
        policy.save(directory)
        return directory

    # -- registration and spec -------------------------------------------------------------------

    def test_registered_with_card_and_factory(self) -> None:
        entry = get_registry().policy(self.policy_type)
        assert entry.spec.type == self.policy_type
        assert entry.card.title and entry.card.summary
        factory = entry.load_factory()
        assert callable(factory.build) and callable(factory.load)
        assert lerobot_loadable(factory) is self.lerobot_interop

    def test_optional_features_are_declared(self, policy: PolicyHandle) -> None:
        """A method that takes an optional feature's argument is declared, and a declaration is backed by the
        method: a misspelt declaration or argument would otherwise turn the feature off unnoticed."""
        factory = get_registry().policy(self.policy_type).load_factory()
        for owner, declarations in ((factory, FACTORY_DECLARATIONS), (policy, HANDLE_DECLARATIONS)):
            for declaration in declarations:
                declaration.declared_by(owner)  # a declaration its method does not back: BadInput
                problem = declaration.undeclared_problem(owner)
                assert problem is None, problem

    def test_schema_exports_as_json(self) -> None:
        schema = json.loads(
            json.dumps(spec_schema(self.policy_type))
        )  # what `policyzoo policies schema` prints
        assert schema["type"] == "object"
        assert set(get_spec(self.policy_type).model_fields) <= set(schema["properties"])
        assert schema.get("additionalProperties") is False

    def test_spec_rejects_bad_values(self, settings: dict[str, Any]) -> None:
        spec_class = get_spec(self.policy_type)
        generic = [{"device": "gpu"}, {"optimizer_lr": -1.0}, {"use_amp": "maybe"}, {"no_such_setting": 1}]
        accepted = []
        for bad in [*generic, *self.bad_settings]:
            try:
                spec_class(**{**settings, **bad})
            except ValidationError:
                continue
            accepted.append(bad)
        assert not accepted, f"the {self.policy_type} spec accepted bad settings: {accepted}"

    def test_default_features_fit(self, spec: PolicySpec, features: Features) -> None:
        assert spec.check_features(features) == []

    # -- training and acting ---------------------------------------------------------------------

    @pytest.mark.slow
    def test_training_lowers_loss(
        self, policy: PolicyHandle, features: Features, stats: dict[str, dict[str, Any]]
    ) -> None:
        batch = random_batch(features, stats, policy.delta_indices(), self.batch_size)
        optimizer, scheduler = policy.optimizer_and_scheduler(self.train_lr, self.train_steps)
        policy.train_mode(True)

        def seeded_loss() -> float:
            torch.manual_seed(123)
            with torch.no_grad():
                return float(policy.loss(batch)[0])

        before = seeded_loss()
        for _ in range(self.train_steps):
            loss, info = policy.loss(batch)
            assert torch.isfinite(loss) and all(np.isfinite(v) for v in info.values())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            if callable(getattr(policy, "update", None)):  # per-step update, e.g. a target network
                policy.update()
        after = seeded_loss()
        policy.train_mode(False)
        assert after < before, f"loss went from {before:.4f} to {after:.4f} in {self.train_steps} steps"

    def test_select_action_shape_and_units(
        self,
        policy: PolicyHandle,
        features: Features,
        stats: dict[str, dict[str, Any]],
        observations: list[dict[str, Any]],
    ) -> None:
        policy.train_mode(False)
        actions = run_episode(policy, observations)
        assert actions.shape == (len(observations), features.action_dim)
        assert actions.dtype == torch.float32 and torch.isfinite(actions).all()
        # unnormalized: nearer the dataset's action mean than zero (the means are 80-160 units)
        mean = torch.as_tensor(np.asarray(stats[ACTION_KEY]["mean"]), dtype=torch.float32)
        assert ((actions - mean).abs() < mean.abs() / 2).all(), "actions are not in the robot's units"

    def test_reset_clears_the_action_queue(
        self, policy: PolicyHandle, features: Features, observations: list[dict[str, Any]]
    ) -> None:
        policy.train_mode(False)
        first, second = observations[0], observations[1]
        run_episode(policy, [first], seed=1)  # leaves queued actions from `first`'s chunk
        policy.reset()
        torch.manual_seed(2)
        after_reset = policy.select_action(second)
        policy.reset()
        torch.manual_seed(2)
        chunk = policy.predict_chunk(second)
        assert chunk.ndim == 2 and chunk.shape[1] == features.action_dim and torch.isfinite(chunk).all()
        torch.testing.assert_close(after_reset, chunk[0])

    # -- saving and loading ----------------------------------------------------------------------

    @pytest.mark.slow
    def test_save_then_load_gives_identical_actions(
        self, policy: PolicyHandle, saved: Path, observations: list[dict[str, Any]]
    ) -> None:
        assert (saved / META_FILE).is_file()
        assert not [p.name for p in saved.rglob("*") if p.suffix in PICKLE_SUFFIXES]
        policy.train_mode(False)
        loaded = load_policy(saved, device="cpu")
        assert loaded.spec == policy.spec
        assert loaded.features.action == policy.features.action
        torch.testing.assert_close(run_episode(loaded, observations), run_episode(policy, observations))

    # -- LeRobot interop (not collected when lerobot_interop is False) ---------------------------

    def test_spec_round_trips_through_lerobot_config(self, spec: PolicySpec, features: Features) -> None:
        factory = get_registry().policy(self.policy_type).load_factory()
        config = factory.make_config(spec, features)
        assert config.type == self.policy_type and config.push_to_hub is False
        assert factory.spec_from_config(config, **_spec_only(factory, spec)) == spec

    @pytest.mark.slow
    def test_saved_folder_loads_in_lerobot(
        self,
        policy: PolicyHandle,
        saved: Path,
        robot_observations: list[dict[str, Any]],
        observations: list[dict[str, Any]],
        task: str | None,
    ) -> None:
        from lerobot.policies.factory import get_policy_class, make_pre_post_processors

        lerobot_policy = get_policy_class(self.policy_type).from_pretrained(str(saved))
        theirs = lerobot_policy.state_dict()
        ours = {
            k: v
            for k, v in _policy_module(policy).state_dict().items()  # batch-norm step counters are
            if k in theirs or not k.endswith(".num_batches_tracked")
        }  # no weights: LeRobot may drop them
        assert set(theirs) == set(ours), "LeRobot's policy has other weights than the saved one"
        assert all(torch.equal(theirs[k].cpu(), ours[k].cpu()) for k in ours), "LeRobot loaded other values"
        preprocessor, postprocessor = make_pre_post_processors(
            lerobot_policy.config, pretrained_path=str(saved)
        )
        policy.train_mode(False)
        torch.testing.assert_close(
            lerobot_episode(lerobot_policy, preprocessor, postprocessor, robot_observations, task=task),
            run_episode(policy, observations),
        )

    @pytest.mark.slow
    def test_lerobot_folder_loads_in_policyzoo(
        self,
        spec: PolicySpec,
        features: Features,
        stats: dict[str, dict[str, Any]],
        robot_observations: list[dict[str, Any]],
        observations: list[dict[str, Any]],
        task: str | None,
        tmp_path: Path,
    ) -> None:
        from lerobot.policies.factory import get_policy_class, make_pre_post_processors

        from policyzoo_runtime.lerobot import tensor_stats

        factory = get_registry().policy(self.policy_type).load_factory()
        config = factory.make_config(spec, features)
        lerobot_policy = get_policy_class(self.policy_type)(config)
        lerobot_policy.eval()
        preprocessor, postprocessor = make_pre_post_processors(config, dataset_stats=tensor_stats(stats))
        lerobot_policy.save_pretrained(tmp_path)
        preprocessor.save_pretrained(tmp_path)
        postprocessor.save_pretrained(tmp_path)
        assert not (tmp_path / META_FILE).exists()

        loaded = load_policy(tmp_path)
        assert loaded.spec.model_dump(exclude=set(_spec_only(factory, spec))) == spec.model_dump(
            exclude=set(_spec_only(factory, spec))
        )
        torch.testing.assert_close(
            run_episode(loaded, observations),
            lerobot_episode(lerobot_policy, preprocessor, postprocessor, robot_observations, task=task),
        )


def _spec_only(factory: Any, spec: PolicySpec) -> dict[str, Any]:
    """The spec fields of a `LeRobotFactory` that its LeRobot config does not hold."""
    return {name: getattr(spec, name) for name in factory.spec_only_fields}


def _policy_module(policy: PolicyHandle) -> torch.nn.Module:
    module = module_of(policy)
    assert isinstance(module, torch.nn.Module), "a LeRobot-loadable handle exposes its policy as `.module`"
    return module
