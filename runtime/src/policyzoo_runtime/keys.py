"""The operator's keys while recording or evaluating on a real robot.

A key source reports the keys pressed since it was last polled, by name: `right`, `left`, `esc`, or the
character (`s`, `f`, `r`). The real source listens to the keyboard with pynput (as `lerobot-record` does);
tests use `ScriptedKeys`. Commands get theirs from `open_keys`, the one seam tests replace.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from policyzoo.errors import BadInput

RIGHT, LEFT, ESC = "right", "left", "esc"


class KeySource(Protocol):
    def poll(self) -> list[str]:
        """The keys pressed since the last poll, oldest first."""

    def close(self) -> None: ...


Press = str | Sequence[str] | BaseException | type[BaseException]


class ScriptedKeys:
    """Keys by poll: the n-th `poll()` (from 0) returns `script[n]`: a key, several keys, or an exception
    (e.g. KeyboardInterrupt), which it raises, as a Ctrl-C would arrive."""

    def __init__(self, script: Mapping[int, Press]) -> None:
        self.script = dict(script)
        self.polls = 0
        self.closed = False

    def poll(self) -> list[str]:
        press = self.script.get(self.polls)
        self.polls += 1
        if isinstance(press, BaseException) or (isinstance(press, type) and issubclass(press, BaseException)):
            raise press
        if press is None:
            return []
        return [press] if isinstance(press, str) else list(press)

    def close(self) -> None:
        self.closed = True


class KeyboardKeys:
    """The keyboard, through a pynput listener thread (needs a desktop session: X11 with DISPLAY, macOS, or
    Windows)."""

    def __init__(self) -> None:
        try:
            from pynput import keyboard
        except Exception as exc:  # pynput raises ImportError, or others, where it finds no display
            reason = " ".join(str(exc).split("\n")[0].split())
            raise BadInput(
                f"keys: cannot listen to the keyboard here ({reason}); run this command in a desktop "
                "session (on Linux: X11 with DISPLAY set), on the computer the keyboard is on"
            ) from None
        self._keyboard = keyboard
        self._lock = threading.Lock()
        self._pressed: list[str] = []
        self._listener = keyboard.Listener(on_press=self._on_press)
        self._listener.start()

    def _on_press(self, key: Any) -> None:
        names = {self._keyboard.Key.right: RIGHT, self._keyboard.Key.left: LEFT, self._keyboard.Key.esc: ESC}
        name = names.get(key) or (getattr(key, "char", None) or "").lower()
        if name:
            with self._lock:
                self._pressed.append(name)

    def poll(self) -> list[str]:
        with self._lock:
            pressed, self._pressed = self._pressed, []
        return pressed

    def close(self) -> None:
        self._listener.stop()


def open_keys() -> KeySource:
    """The operator's keyboard (tests replace this function)."""
    return KeyboardKeys()
