"""Stop signals as an exception, so a stopped command unwinds instead of vanishing.

Python ends a process on SIGTERM and SIGHUP at once: no ``finally`` runs, a child it started
keeps running, and nothing is recorded. A systemd stop, a closed terminal or a cancelled CI job
send exactly these. While a command runs from the command line, they (and SIGINT) raise
``Interrupted`` instead: ``slot_commands`` stops the child it was waiting for, the deploy lock
is released by its ``with`` block, and the command records and says what was left where.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Final

STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)

# Nesting depth of deferred() blocks, and the signal that arrived inside one (main thread only).
_deferring = 0
_pending: list[int] = []


class Interrupted(BaseException):
    """A stop signal arrived. A ``BaseException``, like ``KeyboardInterrupt``: an ``except Exception``
    that turns errors into a failed stage must not swallow it."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        # What the interrupted command says about where it stood; set by the code that knows.
        self.explanation: str | None = None
        super().__init__(f"stopped by {self.signal_name}")

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by a signal."""
        return 128 + self.signum


@contextmanager
def stop_signals_raise() -> Iterator[None]:
    """Turn stop signals into ``Interrupted`` in the ``with`` block; restore the handlers after it.

    Only the first signal raises: the unwinding that follows (stopping the child, writing the
    history) is bounded and must not be cut short by a second one; SIGKILL remains for that.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}

    def handler(signum: int, frame: FrameType | None) -> None:
        for other in STOP_SIGNALS:
            signal.signal(other, signal.SIG_IGN)
        if _deferring:
            _pending.append(signum)
            return
        raise Interrupted(signum)

    for signum in STOP_SIGNALS:
        signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, handler_before in previous.items():
            signal.signal(signum, handler_before)


@contextmanager
def deferred() -> Iterator[None]:
    """Hold back ``Interrupted`` until the end of the block.

    For steps that must not be cut in two: starting a child (a signal raised while the process
    library is still forking would lose the handle that stops the child)."""
    global _deferring
    _deferring += 1
    try:
        yield
    finally:
        _deferring -= 1
        if not _deferring and _pending:
            raise Interrupted(_pending.pop())
