"""LeRobot-style dotted flags (`--policy.chunk_size=100`) shared by every command."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

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

    def take(
        self,
        name: str,
        parse: Callable[[str], Any] = str,
        default: Any = None,
        choices: Sequence[str] | None = None,
        help_value: str = "",
    ) -> Any:
        """The value of `--name`, parsed, or `default` when absent."""
        text = self.text(name, parse is parse_bool, help_value or _describe(parse))
        if text is None:
            return default
        if choices is not None and text not in choices:
            raise BadInput(
                f"--{name}={text}: allowed values are {', '.join(choices)}." + did_you_mean(text, choices)
            )
        try:
            return parse(text)
        except (ValueError, TypeError):
            raise BadInput(f"--{name}={text}: expected {help_value or _describe(parse)}") from None

    def text(self, name: str, switch: bool = False, expects: str = "a value") -> str | None:
        """The text of `--name` (None when absent); given bare, `true` for a `switch`, else an error."""
        self._known.add(name)
        if name not in self.values:
            return None
        if name in self._bare and not switch:
            raise BadInput(f"--{name}: needs a value; write --{name}=VALUE ({expects})")
        return self.values.pop(name)

    def section(self, prefix: str, known: Sequence[str] = ()) -> dict[str, str]:
        """All `--prefix.X` flags as {X: value}; `known` names help suggestions for other flags."""
        self._known.update(f"{prefix}.{name}" for name in known)
        found = {
            name[len(prefix) + 1 :]: value
            for name, value in self.values.items()
            if name.startswith(prefix + ".")
        }
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
    return (
        hint.replace("'", "", 2).replace("mean ", "mean --", 1)
        if hint
        else (f" Known flags: {', '.join('--' + k for k in sorted(known))}" if known else "")
    )


def _describe(parse: Callable) -> str:
    return {
        int: "an integer",
        whole_number: "a whole number",
        float: "a number",
        parse_bool: "true or false",
        str: "text",
    }.get(parse, "a value")


@dataclass(frozen=True)
class Flag:
    """Binds a config field to `--NAME=VALUE`: `steps: Annotated[int, Flag("steps"), Field(ge=1)] = 100`."""

    name: str
    expects: str = ""
    """What a value must be, for the error line; default: said from the field's type and bounds."""
    aliases: tuple[str, ...] = ()
    """Other tools' names for the same flag (lerobot-eval's `--eval.n_episodes`); one of them may be given."""
    section: tuple[str, ...] | None = None
    """For a dict field: every `--NAME.KEY=TEXT` flag as {KEY: TEXT}; these KEYs are the ones suggested."""
    none: bool = False
    """`none`, `off` or `false` give None."""
    least: float | None = None
    most: int | None = None
    """Bounds on what a user may type (`policyzoo_runtime.counts`), beyond the field's: the code may set more."""


def flag_fields(model: type[BaseModel]) -> dict[str, Flag]:
    """{field name: its Flag}, for the fields of `model` that flags set."""
    return {
        name: flag
        for name, field in model.model_fields.items()
        for flag in field.metadata
        if isinstance(flag, Flag)
    }


def flag_name(model: type[BaseModel], field: str) -> str:
    """The flag that sets `field`, as written: `--dataset.repo_id`, `--optimizer.*` for a section."""
    return f"--{(flag := flag_fields(model)[field]).name}" + (".*" if flag.section is not None else "")


def bind(flags: Flags, model: type[BaseModel]) -> dict[str, Any]:
    """The flags given for fields of `model`, as {field: value checked by the field}; other flags stay for the
    caller. Sections get the `--NAME.KEY` flags left."""
    given: dict[str, Any] = {}
    fields = flag_fields(model)
    for name in sorted(fields, key=lambda name: fields[name].section is not None):
        flag = fields[name]
        if flag.section is not None:
            if values := flags.section(flag.name, known=flag.section):
                given[name] = values
            continue
        if (found := _given_once(flags, flag, model.model_fields[name])) is not None:
            given[name] = _value(*found, model.model_fields[name], flag)
    return given


def _given_once(flags: Flags, flag: Flag, field: FieldInfo) -> tuple[str, str] | None:
    """(the name used, its text) of the flag or one of its aliases."""
    switch = _plain(field.annotation) is bool
    texts = [
        (name, text)
        for name in (flag.name, *flag.aliases)
        if (text := flags.text(name, switch, _expects(field, flag) or _describe(str))) is not None
    ]
    if len(texts) > 1:
        raise BadInput(f"--{texts[1][0]}: the same as --{texts[0][0]}; give one of them")
    return texts[0] if texts else None


def _value(used: str, text: str, field: FieldInfo, flag: Flag) -> Any:
    kind = _plain(field.annotation)
    if flag.none and text.strip().lower() in ("none", "off", "false"):
        return None
    if get_origin(kind) is Literal and text not in get_args(kind):
        choices = [str(choice) for choice in get_args(kind)]
        raise BadInput(
            f"--{used}={text}: allowed values are {', '.join(choices)}." + did_you_mean(text, choices)
        )
    expects = _expects(field, flag)
    try:
        value = _PARSERS.get(kind, str)(text)
        adapter: TypeAdapter[Any] = TypeAdapter(Annotated[field.annotation, field])  # type: ignore[arg-type]
        value = adapter.validate_python(value)
        if (
            value is None
            or (flag.least is None or value >= flag.least)
            and (flag.most is None or value <= flag.most)
        ):
            return value
        raise ValueError("out of bounds")
    except ValidationError as exc:
        reason = f"expected {expects}" if expects else exc.errors()[0]["msg"].removeprefix("Value error, ")
    except ValueError:
        reason = f"expected {expects or 'a value'}"
    raise BadInput(f"--{used}={text}: {reason}")


_PARSERS: dict[Any, Callable[[str], Any]] = {
    bool: parse_bool,
    int: whole_number,
    float: float,
}  # text as a value


def _plain(annotation: Any) -> Any:
    """`X` of `X | None`."""
    optional = get_origin(annotation) in (Union, type(int | None))
    return next(arg for arg in get_args(annotation) if arg is not type(None)) if optional else annotation


def _expects(field: FieldInfo, flag: Flag) -> str:
    """What a value must be: the flag's words, else said from a number's or a switch's type and bounds."""
    kind = _plain(field.annotation)
    if flag.expects or kind not in (bool, int, float):
        return flag.expects
    words = "true or false" if kind is bool else "a whole number" if kind is int else "a number"
    least = next((bound.ge for bound in field.metadata if isinstance(bound, Ge)), flag.least)
    words += (
        f" >= {least}"
        if least is not None
        else "".join(f" > {bound.gt}" for bound in field.metadata if isinstance(bound, Gt))
    )
    most = next((bound.le for bound in field.metadata if isinstance(bound, Le)), flag.most)
    return words + (f", at most {most}" if most is not None else "")


def make_spec(
    spec_class: type[PolicySpec],
    values: dict[str, Any],
    prefix: str = "--policy.",
    reasons: Mapping[str, str] | None = None,
) -> PolicySpec:
    """Validate `values` (strings from the command line, or typed) into `spec_class`, one clear error; `reasons`
    says why a setting no spec takes is refused (the runtime passes LeRobot's: `lerobot_flags.POLICY_REASONS`)."""
    try:
        return spec_class(**values)
    except ValidationError as exc:
        raise BadInput(describe_validation_error(exc, spec_class, values, prefix, reasons or {})) from None


def describe_validation_error(
    exc: ValidationError,
    spec_class: type[PolicySpec],
    values: dict[str, Any],
    prefix: str = "--policy.",
    reasons: Mapping[str, str] | None = None,
) -> str:
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"])
    kind = spec_class.type
    if error["type"] == "extra_forbidden":
        kept = spec_class.kept_settings.get(field) or (reasons or {}).get(field)
        if kept:
            return f"{prefix}{field}: {kind} takes no such setting here: {kept}"
        hint = did_you_mean(field, spec_class.model_fields)
        hint = (
            hint.replace("mean '", f"mean {prefix}").replace("'?", "?")
            if hint
            else (f" See: policyzoo policies show {kind}")
        )
        return f"{prefix}{field}: {kind} has no such setting.{hint}"
    message = error["msg"].removeprefix("Value error, ")
    if not field:
        return f"invalid {prefix.strip('-.')} settings for {kind}: {message}"
    shown = values.get(field, error.get("input"))
    return f"{prefix}{field}={shown}: {message} ({kind})"


def policy_spec(values: dict[str, str], reasons: Mapping[str, str] | None = None) -> PolicySpec:
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
    return make_spec(registry.policy(policy_type).spec, values, reasons=reasons)


def flag_text(value: object) -> str:
    """A typed setting (a plugin's preset value) as the text of its `--policy.NAME=VALUE` flag."""
    return str(value).lower() if isinstance(value, bool) else str(value)
