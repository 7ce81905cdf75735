"""How long ``maintenance on`` waits before it returns, so that every worker already sees the window.

Workers keep the state in memory for up to the staleness bound (``reader``): when ``on`` returns, a
migration that follows must find every worker already answering 503.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django_deploykit.maintenance.reader import staleness_bound
from django_deploykit.maintenance.state import MaintenanceState, Phase


def seconds_until_every_worker_sees(state: MaintenanceState, now: datetime) -> float | None:
    """The staleness bound for a window that starts within it and is not over; ``None`` for any other
    window, which every worker reads long before its start (the clock then starts it in each)."""
    bound = staleness_bound()
    if state.start <= now + timedelta(seconds=bound) and state.phase(now) is not Phase.ENDED:
        return bound
    return None
