"""Ctrl-C, SIGTERM and SIGHUP as one interruption (`policyzoo.interrupts`), and work a signal must not cut."""

from __future__ import annotations

import os
import signal

import pytest

from policyzoo.interrupts import (
    Terminated,
    deferred_interrupts,
    exit_code,
    interruption,
    sigterm_as_interrupt,
)


@pytest.mark.parametrize(
    ("signum", "name", "code"), [(signal.SIGTERM, "SIGTERM", 143), (signal.SIGHUP, "SIGHUP", 129)]
)
def test_stop_signals_raise_as_ctrl_c_does(signum: int, name: str, code: int) -> None:
    before = signal.getsignal(signum)
    with pytest.raises(KeyboardInterrupt) as raised, sigterm_as_interrupt():
        os.kill(os.getpid(), signum)
    assert isinstance(raised.value, Terminated) and raised.value.signum == signum
    assert interruption(raised.value) == f"interrupted ({name})" and exit_code(raised.value) == code
    assert signal.getsignal(signum) is before  # the handler only lives inside the block
    assert (
        interruption(KeyboardInterrupt()) == "interrupted (Ctrl-C)" and exit_code(KeyboardInterrupt()) == 130
    )


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_deferred_interrupts_finish_the_block_first(signum: int) -> None:
    finished = []
    with pytest.raises(KeyboardInterrupt) as raised, sigterm_as_interrupt(), deferred_interrupts():
        os.kill(os.getpid(), signum)
        os.kill(os.getpid(), signal.SIGINT)  # a second one changes nothing: the first is raised
        finished.append(True)
    assert finished == [True]
    assert getattr(raised.value, "signum", signal.SIGINT) == signum


def test_deferred_interrupts_without_a_signal_raise_nothing() -> None:
    with deferred_interrupts():
        finished = True
    assert finished
