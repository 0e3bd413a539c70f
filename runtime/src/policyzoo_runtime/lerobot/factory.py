"""`LeRobotFactory`: builds and loads `LeRobotHandle`s for one LeRobot policy type.

A plugin subclasses it, sets `policy_type` and `spec_class`, and overrides only what its type needs:

- `spec_only_fields`: spec fields with no LeRobot config field of the same name.
- `config_fields(spec)` / `spec_fields(config)`: spec <-> LeRobot config field values.
- `input_features(spec, features)` / `output_features(spec, features)`: the LeRobot features to build with.
- `features_from_config(config)`: the dataset features a config was built for (loading LeRobot folders).
- `processor_stats(spec, features, stats)`: the stats the processors get, e.g. with renamed keys.
- `make_policy(config)`: the `PreTrainedPolicy`; override to patch it after construction.
- `make_processors(config, stats)` / `load_processors(config, directory)`: the processor pipelines.
- `handle_class`: a `LeRobotHandle` subclass for run-time adaptations of observations and batches.
- `quick_settings` / `bench_settings(quick, workdir)`: spec settings for `policyzoo bench policies`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from pathlib import Path
from typing import Any, ClassVar

import torch
from draccus.utils import ParsingError
from lerobot.configs.policies import PreTrainedConfig
from lerobot.configs.types import FeatureType, PolicyFeature
from lerobot.policies.factory import get_policy_class, make_policy_config, make_pre_post_processors
from lerobot.policies.pretrained import PreTrainedPolicy
from lerobot.processor.rename_processor import RenameObservationsProcessorStep
from pydantic import ValidationError
from safetensors.torch import load_model

from policyzoo.checkpoint import CONFIG_FILE, WEIGHTS_FILE, read_meta, safetensors_header
from policyzoo.errors import BadInput
from policyzoo.features import Features
from policyzoo.flags import make_spec
from policyzoo.handle import FineTune, PolicyFactory
from policyzoo.spec import PolicySpec
from policyzoo_runtime.lerobot import backbones, convert
from policyzoo_runtime.lerobot.handle import LeRobotHandle
from policyzoo_runtime.lerobot_flags import POLICY_REASONS
from policyzoo_runtime.processor_files import check_processor_file, check_processor_files

PREPROCESSOR_FILE = "policy_preprocessor.json"
POSTPROCESSOR_FILE = "policy_postprocessor.json"
RENAME_STEP = "rename_observations_processor"
NORMALIZER_STEP = "normalizer_processor"
UNNORMALIZER_STEP = "unnormalizer_processor"


class LeRobotFactory(PolicyFactory):
    """Builds a LeRobot policy of `policy_type` from a spec, or loads one from a saved folder."""

    policy_type: ClassVar[str]
    spec_class: ClassVar[type[PolicySpec]]
    handle_class: ClassVar[type[LeRobotHandle]] = LeRobotHandle
    lerobot_loadable: ClassVar[bool] = True
    fine_tunable: ClassVar[bool] = True
    spec_only_fields: ClassVar[frozenset[str]] = frozenset()
    quick_settings: ClassVar[dict[str, Any]] = {}
    """Spec settings of a small model of this type, for `policyzoo bench policies --quick`."""

    # -- spec <-> LeRobot config ----------------------------------------------------------------

    def config_fields(self, spec: PolicySpec) -> dict[str, Any]:
        """LeRobot config fields for `spec`: every spec field of the same name, device resolved."""
        fields = spec.model_dump(exclude=set(self.spec_only_fields))
        fields["device"] = convert.resolve_device(spec.device)
        return fields

    def spec_fields(self, config: PreTrainedConfig) -> dict[str, Any]:
        """Spec field values read back from a LeRobot config (the inverse of `config_fields`)."""
        return {
            name: getattr(config, name)
            for name in self.spec_class.model_fields
            if name not in self.spec_only_fields and hasattr(config, name)
        }

    def input_features(self, spec: PolicySpec, features: Features) -> dict[str, PolicyFeature]:
        return convert.policy_features(features)[0]

    def output_features(self, spec: PolicySpec, features: Features) -> dict[str, PolicyFeature]:
        return convert.policy_features(features)[1]

    def features_from_config(self, config: PreTrainedConfig) -> Features:
        return convert.features_from_config(config)

    def make_config(self, spec: PolicySpec, features: Features) -> PreTrainedConfig:
        """The LeRobot config of `spec` for `features`; backbone weights only when they can be had."""
        fields = {
            **self.config_fields(spec),
            "push_to_hub": False,
            "input_features": self.input_features(spec, features),
            "output_features": self.output_features(spec, features),
        }
        if fields.get(backbones.FIELD):
            fields[backbones.FIELD] = backbones.usable_weights(
                fields[backbones.FIELD], fields.get("vision_backbone", "resnet18")
            )
        try:
            config = make_policy_config(self.policy_type, **fields)
            config.validate_features()
        except (ValueError, NotImplementedError) as exc:
            raise BadInput(
                f"--policy.type={self.policy_type}: LeRobot rejects these settings: {exc}"
            ) from None
        return config

    def spec_from_config(self, config: PreTrainedConfig, **extra: Any) -> PolicySpec:
        """The spec a LeRobot config corresponds to; `extra` sets spec-only fields."""
        try:
            return self.spec_class.model_validate({**self.spec_fields(config), **extra})
        except ValidationError as exc:
            raise BadInput(
                f"the {self.policy_type} config.json has settings policyzoo does not accept: "
                f"{_first_error(exc)}"
            ) from None

    def bench_settings(self, quick: bool, workdir: Path) -> dict[str, Any]:
        """Spec settings to benchmark with; override when a default needs local files (a model folder)."""
        return dict(self.quick_settings) if quick else {}

    # -- building blocks ------------------------------------------------------------------------

    def processor_stats(
        self, spec: PolicySpec, features: Features, stats: dict[str, dict[str, Any]] | None
    ) -> dict[str, dict[str, Any]] | None:
        return convert.tensor_stats(stats)

    def make_policy(self, config: PreTrainedConfig) -> PreTrainedPolicy:
        """A new (randomly initialised) policy on `config.device`."""
        return get_policy_class(self.policy_type)(config).to(config.device)

    def make_processors(
        self, config: PreTrainedConfig, stats: dict[str, dict[str, Any]] | None
    ) -> tuple[Any, Any]:
        return make_pre_post_processors(config, dataset_stats=stats)

    def load_processors(
        self, config: PreTrainedConfig, directory: Path, finetune: FineTune | None = None
    ) -> tuple[Any, Any]:
        """The saved pipelines; with `finetune`, LeRobot's overrides give them the new dataset's statistics
        (by the policy's names) and the rename map, as `lerobot-train --policy.path` does."""
        steps: dict[str, list[dict[str, Any]]] = {}
        for name in (PREPROCESSOR_FILE, POSTPROCESSOR_FILE):  # LeRobot would import a step's "class"
            steps[name] = check_processor_file(Path(directory) / name, Path(directory))
        preprocessor_overrides: dict[str, Any] = {"device_processor": {"device": config.device}}
        postprocessor_overrides: dict[str, Any] = {}
        if finetune is not None:
            rename_map = {**saved_rename_map(steps[PREPROCESSOR_FILE]), **finetune.rename_map}
            if finetune.rename_map:
                preprocessor_overrides[RENAME_STEP] = {"rename_map": rename_map}
            # the features as the config now has them (image sizes, absent cameras), as lerobot-train passes them
            preprocessor_overrides[NORMALIZER_STEP] = {
                "features": {**config.input_features, **config.output_features}
            }
            postprocessor_overrides[UNNORMALIZER_STEP] = {"features": dict(config.output_features)}
            if finetune.stats is not None:
                stats = convert.tensor_stats(
                    {rename_map.get(key, key): value for key, value in finetune.stats.items()}
                )
                preprocessor_overrides[NORMALIZER_STEP]["stats"] = stats
                postprocessor_overrides[UNNORMALIZER_STEP]["stats"] = stats
        try:
            return make_pre_post_processors(
                config,
                pretrained_path=str(directory),
                preprocessor_overrides=preprocessor_overrides,
                postprocessor_overrides=postprocessor_overrides,
            )
        except KeyError as exc:  # LeRobot: an override names a step the saved pipeline does not have
            raise BadInput(
                f"{directory}: its processor pipeline cannot take the new dataset's statistics or "
                f"names ({' '.join(str(exc).split())[:160]}); fine-tune with "
                f"--keep_checkpoint_stats=true and without --rename_map"
            ) from None

    def make_handle(
        self,
        spec: PolicySpec,
        features: Features,
        policy: PreTrainedPolicy,
        preprocessor: Any,
        postprocessor: Any,
    ) -> LeRobotHandle:
        distribution, version = self.provenance()
        return self.handle_class(spec, features, policy, preprocessor, postprocessor, distribution, version)

    def provenance(self) -> tuple[str, str]:
        """(distribution, version) of the plugin that registered this policy type."""
        from policyzoo.registry import provenance

        return provenance(self.policy_type)

    # -- PolicyFactory --------------------------------------------------------------------------

    def build(
        self, spec: PolicySpec, features: Features, stats: dict[str, dict[str, Any]] | None
    ) -> LeRobotHandle:
        config = self.make_config(spec, features)
        if (
            backbones.FIELD in type(spec).model_fields
        ):  # the weights really used (None when they could not be had)
            spec = spec.model_copy(update={backbones.FIELD: getattr(config, backbones.FIELD)})
        policy = self.make_policy(config)
        preprocessor, postprocessor = self.make_processors(
            config, self.processor_stats(spec, features, stats)
        )
        return self.make_handle(spec, features, policy, preprocessor, postprocessor)

    def load(
        self, directory: Path, device: str | None = None, finetune: FineTune | None = None
    ) -> LeRobotHandle:
        """A saved folder: policyzoo's (with policyzoo.json) or one written by LeRobot alone; `finetune` gives
        it a new dataset's statistics and input names and changes settings that keep its weights."""
        directory = Path(directory)
        check_processor_files(directory)  # before LeRobot imports a step's "class" or reads a state_file
        config = self.read_config(directory)
        spec = self.saved_spec(directory, config)
        settings = dict(finetune.settings) if finetune else {}
        if finetune is not None:
            self.adapt_inputs(config, directory, finetune)
        if settings:
            spec = make_spec(self.spec_class, {**spec.model_dump(), **settings}, reasons=POLICY_REASONS)
            fields = self.config_fields(spec)
            for name in settings:
                if name in fields and hasattr(config, name):
                    setattr(config, name, fields[name])
        if device is not None:
            try:
                spec = self.spec_class.model_validate({**spec.model_dump(), "device": device})
            except ValidationError as exc:
                raise BadInput(f"--policy.device={device}: {_first_error(exc)}") from None
        config.device = convert.resolve_device(spec.device)
        backbone_weights = getattr(config, backbones.FIELD, None)
        if backbone_weights is not None:  # the checkpoint holds the backbone: build without fetching it
            setattr(config, backbones.FIELD, None)
        self.check_weight_shapes(config, directory, finetune)
        policy = self.make_policy(config)
        self.load_weights(policy, directory)
        if backbone_weights is not None:
            setattr(config, backbones.FIELD, backbone_weights)  # saved again as the checkpoint said
        policy.eval()
        for name in (PREPROCESSOR_FILE, POSTPROCESSOR_FILE):
            if not (directory / name).is_file():
                raise BadInput(
                    f"{directory}: no {name}, so the normalization stats are missing; save the "
                    f"checkpoint with LeRobot >= 0.4 or policyzoo"
                )
        preprocessor, postprocessor = self.load_processors(config, directory, finetune)
        features = dataset_names(self.features_from_config(config), rename_map_of(preprocessor))
        return self.make_handle(spec, features, policy, preprocessor, postprocessor)

    def adapt_inputs(self, config: PreTrainedConfig, directory: Path, finetune: FineTune) -> None:
        """The config's cameras as the new dataset has them: its image sizes, without the absent ones."""
        rename_map = {
            **saved_rename_map(check_processor_file(directory / PREPROCESSOR_FILE, directory)),
            **finetune.rename_map,
        }
        shapes = {rename_map.get(key, key): tuple(shape) for key, shape in finetune.camera_shapes.items()}
        config.input_features = {
            key: PolicyFeature(feature.type, shapes[key])
            if feature.type is FeatureType.VISUAL and key in shapes
            else feature
            for key, feature in config.input_features.items()
            if key not in finetune.absent
        }

    def saved_spec(self, directory: Path, config: PreTrainedConfig) -> PolicySpec:
        """The spec in the folder's policyzoo.json (checked against config.json), or the one config.json gives."""
        meta = read_meta(directory)
        spec_of_config = self.spec_from_config(config)  # the spec's bounds, on what will really be built
        if meta is None:
            return spec_of_config
        if meta.policy_type != self.policy_type:
            raise BadInput(
                f"{directory}/policyzoo.json: policy type '{meta.policy_type}' does not match "
                f"config.json type '{self.policy_type}'; re-export the checkpoint"
            )
        try:
            return self.spec_class.model_validate(meta.spec)
        except ValidationError as exc:
            raise BadInput(f"{directory}/policyzoo.json: invalid spec: {_first_error(exc)}") from None

    def read_config(self, directory: Path) -> PreTrainedConfig:
        try:
            return PreTrainedConfig.from_pretrained(str(directory))
        except (ValueError, TypeError, KeyError, json.JSONDecodeError, ParsingError) as exc:
            raise BadInput(
                f"{directory / CONFIG_FILE}: LeRobot cannot read it ({_config_problem(exc, directory)})"
            ) from None

    def check_weight_shapes(
        self, config: PreTrainedConfig, directory: Path, finetune: FineTune | None = None
    ) -> None:
        """Every tensor in model.safetensors' header must have the shape the model of config.json gives it
        (as `finetune` changed it).

        The model is built on PyTorch's meta device (shapes only, no memory), so a config.json that asks for a
        model far larger than its weights fails here, before anything is allocated.
        """
        header = safetensors_header(directory / WEIGHTS_FILE)
        skeleton_config = copy.copy(config)
        skeleton_config.device = "meta"
        try:
            with torch.device("meta"):
                skeleton = self.make_policy(skeleton_config)
        except (RuntimeError, ValueError, OverflowError) as exc:  # e.g. "Storage size calculation overflowed"
            raise BadInput(
                f"{directory / CONFIG_FILE}: describes a model that cannot be built "
                f"({' '.join(str(exc).split())[:160]}); the file was edited or damaged: restore it "
                f"from the checkpoint it came with"
            ) from None
        expected = {key: list(tensor.shape) for key, tensor in skeleton.state_dict().items()}
        for key, entry in header.items():
            if key in expected and list(entry.get("shape", [])) != expected[key]:
                if finetune is not None:
                    given = " ".join(f"--policy.{name}={value}" for name, value in finetune.settings.items())
                    raise BadInput(
                        f"{given or 'the dataset'}: changes the shape of the saved weights ({key}: "
                        f"{entry.get('shape')} saved, {expected[key]} asked); when fine-tuning, change "
                        f"only settings that keep the weights (n_action_steps, learning rates, dropout, "
                        f"...){'' if given else ', on data with the camera sizes the policy was trained on'}"
                    )
                raise BadInput(
                    f"{directory}: config.json gives {key} the shape {expected[key]}, {WEIGHTS_FILE} holds "
                    f"{entry.get('shape')}; the files come from different checkpoints (or config.json "
                    f"was edited)"
                )

    def load_weights(self, policy: PreTrainedPolicy, directory: Path) -> None:
        """Load model.safetensors strictly: a missing weight is an error naming it, never a random init."""
        weights = directory / WEIGHTS_FILE
        if not weights.is_file():
            raise BadInput(f"{directory}: no {WEIGHTS_FILE}; point at a saved policy folder")
        missing, _unexpected = load_model(
            policy, str(weights), strict=False, device=str(policy.config.device)
        )
        if missing:
            shown = ", ".join(sorted(missing)[:5]) + (
                f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            )
            raise BadInput(
                f"{weights}: weights missing for {shown}; the checkpoint does not match its "
                f"config.json (re-save it from the same policy)"
            )


def saved_rename_map(steps: list[dict[str, Any]]) -> dict[str, str]:
    """The rename map a saved preprocessor applies first (dataset key -> policy key)."""
    for step in steps:
        if step.get("registry_name") == RENAME_STEP:
            return dict(step.get("config", {}).get("rename_map") or {})
    return {}


def rename_map_of(preprocessor: Any) -> dict[str, str]:
    """The rename map of a built preprocessor's rename step ({} without one)."""
    for step in getattr(preprocessor, "steps", ()):
        if isinstance(step, RenameObservationsProcessorStep):
            return dict(step.rename_map)
    return {}


def dataset_names(features: Features, rename_map: dict[str, str]) -> Features:
    """`features` under the names the data has before the rename step maps them to the policy's names."""
    if not rename_map:
        return features
    original = {new: old for old, new in rename_map.items()}
    return features.model_copy(
        update={
            group: {original.get(key, key): shape for key, shape in getattr(features, group).items()}
            for group in ("state", "visual")
        }
    )


def _config_problem(exc: BaseException, directory: Path) -> str:
    """What LeRobot's config parser found wrong, without the parser's own internals."""
    text = " ".join(str(exc).split())
    text = re.sub(r"(Couldn't parse .* into an? \w+): .*", r"\1", text)  # drops draccus' decoder signature
    if text.startswith("Couldn't instantiate"):
        nulls = _null_fields(directory)
        cause = exc.__cause__ or exc.__context__
        text = (
            f"{', '.join(f'`{name}`' for name in nulls)} null where a value is needed"
            if nulls
            else f"{text.rstrip('.')}: {' '.join(str(cause).split())}"
            if cause
            else text
        )
    return text[:240]


def _null_fields(directory: Path) -> list[str]:
    """Top-level config.json fields set to null that the config class does not allow to be null."""
    raw = json.loads((directory / CONFIG_FILE).read_text())
    try:
        config_class = PreTrainedConfig.get_choice_class(raw.get("type"))
    except (KeyError, ValueError):
        return []
    required = {
        field.name
        for field in dataclasses.fields(config_class)
        if field.default is not None and "None" not in str(field.type)
    }
    return [name for name, value in raw.items() if value is None and name in required]


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "spec"
    return f"{where}: {error['msg']}"
