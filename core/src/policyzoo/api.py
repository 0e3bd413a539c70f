"""The Python API: list, describe, build and load policies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policyzoo.capabilities import FINE_TUNABLE
from policyzoo.checkpoint import check_saved_policy, load_error, policy_type_of, resolve_pretrained
from policyzoo.errors import BadInput
from policyzoo.features import Features, check_compatibility
from policyzoo.handle import FineTune, PolicyHandle
from policyzoo.registry import PolicyEntry, get_registry
from policyzoo.spec import PolicySpec


def list_policies() -> list[PolicyEntry]:
    """Installed policy types, sorted by name."""
    return [entry for _, entry in sorted(get_registry().policies.items())]


def get_spec(policy_type: str) -> type[PolicySpec]:
    """The spec class of an installed policy type."""
    return get_registry().policy(policy_type).spec


def spec_schema(policy_type: str, flag: str = "--policy.type") -> dict[str, Any]:
    """The JSON Schema of an installed policy type's settings (what `policyzoo policies schema` prints)."""
    entry = get_registry().policy(policy_type, flag=flag)
    schema = entry.spec.model_json_schema()
    schema["title"] = f"{entry.type} policy settings"
    return schema


def build_policy(
    spec: PolicySpec, features: Features, stats: dict[str, dict[str, Any]] | None = None
) -> PolicyHandle:
    """A new policy for `features`; `stats` are the dataset's normalization statistics."""
    from policyzoo.errors import BadInput

    problems = check_compatibility(spec, features)
    if problems:
        raise BadInput("; ".join(str(problem) for problem in problems))
    factory = get_registry().policy(spec.type).load_factory()
    return factory.build(spec, features, stats)


def load_policy(
    path_or_repo_id: str | Path, device: str | None = None, finetune: FineTune | None = None
) -> PolicyHandle:
    """A saved policy from a local folder (checkpoint, training output) or a Hub repo id; `finetune` adapts it
    to a new dataset (its statistics, input names, settings) when its plugin can."""
    directory = resolve_pretrained(path_or_repo_id)
    entry = get_registry().policy(policy_type_of(directory), flag="config.json type")
    factory = entry.load_factory()
    check_saved_policy(
        directory
    )  # a LeRobot policy's factory checks its processor files before LeRobot reads them
    options: dict[str, Any] = {}
    if finetune is not None and FINE_TUNABLE.declared_by(factory):
        options["finetune"] = finetune
    elif finetune is not None and finetune.needs_plugin:
        raise BadInput(
            f"--policy.path: the {entry.type} plugin ({entry.distribution}) cannot adapt a saved policy "
            f"to a new dataset (its factory is not fine_tunable); fine-tune with "
            f"--keep_checkpoint_stats=true and without --rename_map or --policy.* settings"
        )
    try:
        return factory.load(directory, device=device, **options)
    except BadInput:
        raise
    except (RuntimeError, ValueError) as exc:
        clear = load_error(directory, exc)
        if clear is None:
            raise
        raise clear from None
