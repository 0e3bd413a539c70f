"""LeRobot-style dotted flags (`--policy.chunk_size=100`) shared by every command."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from policyzoo.errors import BadInput, did_you_mean
from policyzoo.spec import PolicySpec

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def whole_number(text: str) -> int:
    """An integer flag value, also written as LeRobot users do in YAML and on command lines: 1e3, 10_000, 2.0."""
    try:
        return int(text)
    except ValueError:
        value = float(text)  # ValueError for text that is no number at all
    if not value.is_integer():
        raise ValueError("not a whole number")
    return int(value)


def whole_number_within(least: int, most: int) -> Callable[[str], int]:
    """A flag parser: a whole number from `least` to `most`."""

    def parse(text: str) -> int:
        value = whole_number(text)
        if not least <= value <= most:
            raise ValueError(f"not from {least} to {most}")
        return value

    return parse


def whole_positive(text: str) -> int:
    """A flag value that must be a whole number of at least 1."""
    value = whole_number(text)
    if value < 1:
        raise ValueError("must be >= 1")
    return value


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("expected true or false")


class Flags:
    """Parsed `--name=value` flags; commands take what they know, then `finish()` rejects the rest."""

    def __init__(self, args: Sequence[str]) -> None:
        self.values: dict[str, str] = {}
        self.positional: list[str] = []
        self._known: set[str] = set()
        self._bare: set[str] = set()
        """Flags given without a value (`--resume`): true for a switch, an error for any other flag."""
        self.reasons: Callable[[str], str | None] = lambda _name: None
        """Why a flag the command does not take is refused, when it is a known flag of another tool (LeRobot)."""
        args = list(args)
        while args:
            arg = args.pop(0)
            if not arg.startswith("--") or arg == "--":
                self.positional.append(arg)
                continue
            name, has_value, value = arg[2:].partition("=")
            if not name:
                raise BadInput(f"{arg}: empty flag name; write --name=value")
            name = name.replace("-", "_")  # one style, LeRobot's: --output-dir is --output_dir
            if not has_value:
                if args and not args[0].startswith("--"):
                    value = args.pop(0)
                else:
                    value = "true"
                    self._bare.add(name)
            if name in self.values and self.values[name] != value:
                raise BadInput(f"--{name}: given twice ({self.values[name]} and {value}); give it once")
            self.values[name] = value

    def take(self, name: str, parse: Callable[[str], Any] = str, default: Any = None,
             choices: Sequence[str] | None = None, help_value: str = "") -> Any:
        """The value of `--name`, parsed, or `default` when absent."""
        self._known.add(name)
        if name not in self.values:
            return default
        text = self.values.pop(name)
        if name in self._bare and parse is not parse_bool:
            raise BadInput(f"--{name}: needs a value; write --{name}=VALUE ({help_value or _describe(parse)})")
        if choices is not None and text not in choices:
            raise BadInput(f"--{name}={text}: allowed values are {', '.join(choices)}."
                           + did_you_mean(text, choices))
        try:
            return parse(text)
        except (ValueError, TypeError):
            raise BadInput(f"--{name}={text}: expected {help_value or _describe(parse)}") from None

    def section(self, prefix: str, known: Sequence[str] = ()) -> dict[str, str]:
        """All `--prefix.X` flags as {X: value}; `known` names help suggestions for other flags."""
        self._known.update(f"{prefix}.{name}" for name in known)
        found = {name[len(prefix) + 1:]: value for name, value in self.values.items()
                 if name.startswith(prefix + ".")}
        for name in found:
            del self.values[f"{prefix}.{name}"]
        return found

    def finish(self) -> None:
        """Raise for the first flag no part of the command asked for."""
        if self.positional:
            raise BadInput(f"unexpected argument '{self.positional[0]}'; flags are written --name=value")
        for name in self.values:
            reason = self.reasons(name)
            if reason:
                raise BadInput(f"--{name}: {reason}")
            raise BadInput(f"--{name}: unknown flag." + _did_you_mean_flag(name, self._known))


def _did_you_mean_flag(name: str, known: set[str]) -> str:
    hint = did_you_mean(name, known)
    return hint.replace("'", "", 2).replace("mean ", "mean --", 1) if hint else (
        f" Known flags: {', '.join('--' + k for k in sorted(known))}" if known else "")


def _describe(parse: Callable) -> str:
    return {int: "an integer", whole_number: "a whole number", float: "a number", parse_bool: "true or false",
            str: "text"}.get(parse, "a value")


def make_spec(spec_class: type[PolicySpec], values: dict[str, Any], prefix: str = "--policy.") -> PolicySpec:
    """Validate `values` (strings from the command line, or typed) into `spec_class`, one clear error."""
    try:
        return spec_class(**values)
    except ValidationError as exc:
        raise BadInput(describe_validation_error(exc, spec_class, values, prefix)) from None


def describe_validation_error(exc: ValidationError, spec_class: type[PolicySpec], values: dict[str, Any],
                              prefix: str = "--policy.") -> str:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"])
    kind = spec_class.type
    if error["type"] == "extra_forbidden":
        from policyzoo._lerobot_flags import POLICY_REASONS

        kept = spec_class.kept_settings.get(field) or POLICY_REASONS.get(field)
        if kept:
            return f"{prefix}{field}: {kind} takes no such setting here: {kept}"
        hint = did_you_mean(field, spec_class.model_fields)
        hint = hint.replace("mean '", f"mean {prefix}").replace("'?", "?") if hint else (
            f" See: policyzoo policies show {kind}")
        return f"{prefix}{field}: {kind} has no such setting.{hint}"
    message = error["msg"].removeprefix("Value error, ")
    if not field:
        return f"invalid {prefix.strip('-.')} settings for {kind}: {message}"
    shown = values.get(field, error.get("input"))
    return f"{prefix}{field}={shown}: {message} ({kind})"


def policy_spec(values: dict[str, str]) -> PolicySpec:
    """`--policy.type` plus `--policy.FIELD` flags (already split off with `Flags.section("policy")`).

    Callers pop their own non-spec keys (such as `path`) first.
    """
    from policyzoo.registry import get_registry

    registry = get_registry()
    values = dict(values)
    policy_type = values.pop("type", None)
    if policy_type is None:
        installed = ", ".join(sorted(registry.policies)) or "none installed"
        raise BadInput(f"--policy.type is required; installed types: {installed}")
    return make_spec(registry.policy(policy_type).spec, values)


def flag_text(value: object) -> str:
    """A typed setting (a plugin's preset value) as the text of its `--policy.NAME=VALUE` flag."""
    return str(value).lower() if isinstance(value, bool) else str(value)
