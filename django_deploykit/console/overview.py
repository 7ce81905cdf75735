"""The console's front page: what is live now, what each slot holds, the maintenance window, pending
migrations by phase, the last deploy_check findings, who holds the deploy lock, the latest runs.

Each part is read on its own and a part that cannot be read says why in its place: the page must show
whatever it can while a deploy, a migration or an outage is going on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import DatabaseError, connection
from django.utils import timezone

from django_deploykit.console.history_page import recorded_runs
from django_deploykit.deploy_check import last
from django_deploykit.deploy_root import history, links
from django_deploykit.deploy_root.layout import LIVE_LINK, STAGE_LINK, DeployRoot
from django_deploykit.deploy_root.lock import LockHolder, holder_if_running
from django_deploykit.deploy_root.revision import read_revision
from django_deploykit.maintenance import operations
from django_deploykit.migrate_safe import planning

RECENT_RUNS = 8


@dataclass
class SlotState:
    name: str
    link: str | None
    revision: str | None
    ref: str = ""
    pulled_at: str = ""


@dataclass
class Overview:
    slots: list[SlotState] = field(default_factory=list)
    links_problem: str = ""
    history_problem: str = ""
    holder: LockHolder | None = None
    maintenance_phase: str = "idle"
    maintenance: list[tuple[str, list[str]]] = field(default_factory=list)
    # Live's pending migrations: phase -> labels; or why they cannot be known now.
    pending: dict[str, list[str]] = field(default_factory=dict)
    pending_problem: str = ""
    checks: list[last.LastCheck] = field(default_factory=list)
    recent: list[history.HistoryRecord] = field(default_factory=list)
    deployable: list[history.HistoryRecord] = field(default_factory=list)


def overview(root: DeployRoot, now: datetime | None = None) -> Overview:
    now = now or timezone.now()
    result = Overview(holder=holder_if_running(root))
    records, result.history_problem = recorded_runs(root)
    _slots(root, records, result)
    _maintenance(now, result)
    _pending(result)
    result.checks = [check for check in (last.read(root, link) for link in (LIVE_LINK, STAGE_LINK)) if check]
    result.recent = list(reversed(records[-RECENT_RUNS:]))
    result.deployable = rollback_targets(records)
    return result


def rollback_targets(records: list[history.HistoryRecord], count: int = 10) -> list[history.HistoryRecord]:
    """The latest successful deploys, one per revision, newest first: what 'redeploy' can go back to."""
    seen: set[str] = set()
    found = []
    for record in reversed(records):
        if (
            record.kind == "deploy"
            and record.result == "ok"
            and record.to_revision
            and record.to_revision not in seen
        ):
            seen.add(record.to_revision)
            found.append(record)
        if len(found) >= count:
            break
    return found


def _slots(root: DeployRoot, records: list[history.HistoryRecord], result: Overview) -> None:
    try:
        state = links.read_links(root)
        by_slot = {state.live: LIVE_LINK, state.stage: STAGE_LINK}
    except links.LinkError as exc:
        result.links_problem = str(exc)
        by_slot = {}
    for slot in root.slot_names:
        slot_state = SlotState(slot, by_slot.get(slot), read_revision(root.path / slot))
        for record in reversed(records):
            if record.kind == "pull" and record.result == "ok" and record.to_slot == slot:
                slot_state.ref = str(record.details.get("ref", ""))
                slot_state.pulled_at = record.started_at
                break
        result.slots.append(slot_state)


def _maintenance(now: datetime, result: Overview) -> None:
    report = operations.status(now)
    result.maintenance_phase = report.phase.value
    zone = timezone.get_default_timezone()
    result.maintenance = [
        (scope.scope, operations.describe_scope(scope, now=now, zone=zone)) for scope in report.scopes
    ]


def _pending(result: Overview) -> None:
    """The live code's migrations the database has not applied, by phase (the running code is live's)."""
    try:
        plan = planning.pending_for_leaves(connection)
    except DatabaseError as exc:
        result.pending_problem = f"the database cannot be asked now ({exc.__class__.__name__})"
        return
    except Exception as exc:  # a migration graph that cannot be loaded: say so, the page still shows
        result.pending_problem = f"the migrations cannot be planned: {exc}"
        return
    for verdict in plan.migrations:
        result.pending.setdefault(verdict.phase.value, []).append(f"{verdict.app_label}.{verdict.name}")
