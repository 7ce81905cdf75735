"""Real faults for the migrate_safe tests, armed only in processes a test starts with the variable set.

``killed_after(operation, key)``: the operation runs its SQL in a schema editor of its own (so
its deferred SQL, such as foreign keys, runs too), then SIGKILLs its own process when
MIGRATE_SAFE_TEST_KILL is ``key`` (forwards) or ``key:backwards``: the statement has taken
effect and the journal never hears of it.

``stall``: a RunPython function that, when MIGRATE_SAFE_TEST_STALL names a file, creates the file
and waits (at most STALL_SECONDS) until the test removes it, so a test can kill the connection
while the run is between its DDL operations.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

from django.db.migrations.operations.base import Operation

KILL_VARIABLE = "MIGRATE_SAFE_TEST_KILL"
STALL_VARIABLE = "MIGRATE_SAFE_TEST_STALL"
STALL_SECONDS = 30


def _die_if_asked(key: str) -> None:
    if os.environ.get(KILL_VARIABLE) == key:
        os.kill(os.getpid(), signal.SIGKILL)


def killed_after(operation: Operation, key: str) -> Operation:
    base = type(operation)

    def database_forwards(
        self: Any, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.collect_sql:
            base.database_forwards(self, app_label, schema_editor, from_state, to_state)
            return
        with schema_editor.connection.schema_editor(atomic=False) as own:
            base.database_forwards(self, app_label, own, from_state, to_state)
        _die_if_asked(key)

    def database_backwards(
        self: Any, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.collect_sql:
            base.database_backwards(self, app_label, schema_editor, from_state, to_state)
            return
        with schema_editor.connection.schema_editor(atomic=False) as own:
            base.database_backwards(self, app_label, own, from_state, to_state)
        _die_if_asked(f"{key}:backwards")

    operation.__class__ = type(
        base.__name__,
        (base,),
        {"database_forwards": database_forwards, "database_backwards": database_backwards},
    )
    return operation


def stall(apps: Any, schema_editor: Any) -> None:
    marker = os.environ.get(STALL_VARIABLE)
    if not marker:
        return
    path = Path(marker)
    path.write_text(str(os.getpid()), encoding="utf-8")
    deadline = time.monotonic() + STALL_SECONDS
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
