"""Crash-test hook: lets the crash tests SIGKILL a real process at an exact moment.

With ``NEWSSEARCH_TEST_KILL_AT=name`` in the environment, the process kills itself
with SIGKILL when it reaches ``checkpoint(name)``. Unset (always, outside those
tests) a checkpoint costs one dictionary lookup. Nothing else reads the variable.
"""
from __future__ import annotations

import os
import signal

__all__ = ["checkpoint"]


def checkpoint(name: str) -> None:
    """SIGKILL this process here when NEWSSEARCH_TEST_KILL_AT names this point."""
    if os.environ.get("NEWSSEARCH_TEST_KILL_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
