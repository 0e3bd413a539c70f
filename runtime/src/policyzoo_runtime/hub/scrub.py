"""Removing what must not leave this machine from exported JSON: absolute local paths and tokens."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

# An absolute POSIX path (not the `//host` of a URL), a home-relative path, or a Windows drive path,
# starting at the beginning of a string or after a separator such as `=` in `--output_dir=/tmp/x`.
_PATH = re.compile(r"(?:(?<=^)|(?<=[\s=,;(\"']))(?:/(?!/)|~/|[A-Za-z]:\\)[^\s\"',;)]*")
_TOKEN = re.compile(r"\bhf_[A-Za-z0-9]{20,}\b")
REDACTED = "<redacted>"


@dataclass(frozen=True)
class Scrubbed:
    """One value that was changed: where (file and JSON path), what it was and what it became."""

    file: str
    where: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.file} {self.where}: {', '.join(f'{a} -> {b}' for a, b in self.pieces())}"

    def pieces(self) -> list[tuple[str, str]]:
        """Each removed piece and what replaced it (a token shows as REDACTED, never as itself)."""
        if self.before == REDACTED:
            return [("a token", REDACTED)]
        return [(match.group(0), local_name(match.group(0))) for match in _PATH.finditer(self.before)]


def local_name(path: str) -> str:
    """What an absolute path becomes: its last component, which says what it was without where."""
    name = re.split(r"[/\\]", path.rstrip("/\\"))[-1]
    return name or "."


def scrub_text(text: str, secrets: tuple[str, ...] = ()) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    text = _TOKEN.sub(REDACTED, text)
    return _PATH.sub(lambda match: local_name(match.group(0)), text)


def scrub_json(
    value: Any, file: str, secrets: tuple[str, ...] = (), where: str = ""
) -> tuple[Any, list[Scrubbed]]:
    """`value` with every absolute path cut to its last component and every token redacted."""
    if isinstance(value, dict):
        changes: list[Scrubbed] = []
        result = {}
        for key, item in value.items():
            result[key], found = scrub_json(item, file, secrets, f"{where}.{key}" if where else str(key))
            changes += found
        return result, changes
    if isinstance(value, list):
        changes = []
        items = []
        for index, item in enumerate(value):
            new, found = scrub_json(item, file, secrets, f"{where}[{index}]")
            items.append(new)
            changes += found
        return items, changes
    if isinstance(value, str):
        after = scrub_text(value, secrets)
        if after != value:
            shown = REDACTED if REDACTED in after and _has_secret(value, secrets) else value
            return after, [Scrubbed(file, where or "(root)", shown, after)]
    return value, []


def _has_secret(value: str, secrets: tuple[str, ...]) -> bool:
    return bool(_TOKEN.search(value)) or any(secret and secret in value for secret in secrets)


def known_secrets() -> tuple[str, ...]:
    """The Hugging Face token of this machine (env or login), so it can never be exported."""
    found = [os.environ.get(name, "") for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")]
    try:
        from huggingface_hub import get_token

        found.append(get_token() or "")
    except ImportError:
        pass
    return tuple(secret for secret in found if len(secret) >= 8)
