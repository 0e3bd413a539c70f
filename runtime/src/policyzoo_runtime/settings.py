"""The base of the commands' settings (train, eval, deploy): pydantic models whose fields name their flags."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class Settings(BaseModel):
    """A command's settings; `policyzoo.flags.bind` reads the flags of the fields marked with `Flag`."""

    model_config = ConfigDict(extra="forbid")

    def replace(self, **changes: Any) -> Self:
        """A copy with `changes`, checked as new settings are."""
        return type(self)(**{**dict(self), **changes})
