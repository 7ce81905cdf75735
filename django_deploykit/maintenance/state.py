"""The maintenance window: one small JSON document, and the phase it is in at a given moment."""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

FORMAT = 1


class Phase(enum.Enum):
    IDLE = "idle"
    ANNOUNCED = "announced"
    ACTIVE = "active"
    ENDED = "ended"


# When the host and shared scopes disagree, the more disruptive phase wins.
PHASE_WEIGHT = {Phase.IDLE: 0, Phase.ENDED: 1, Phase.ANNOUNCED: 2, Phase.ACTIVE: 3}


class StateError(Exception):
    """The stored state cannot be read or written; the message names the store and the cause."""


@dataclass(frozen=True)
class MaintenanceState:
    start: datetime
    end: datetime | None = None
    warn_seconds: int = 0
    message: str = ""
    # "auto" derives Retry-After from the end; a number is sent as it is.
    retry_after: str | int = "auto"
    allow_ips: tuple[str, ...] = ()
    secret_hash: str | None = None
    set_by: str = ""
    set_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    version: int = 1

    @property
    def announce_from(self) -> datetime:
        return self.start - timedelta(seconds=self.warn_seconds)

    def phase(self, now: datetime) -> Phase:
        if self.end is not None and now >= self.end:
            return Phase.ENDED
        if now >= self.start:
            return Phase.ACTIVE
        if now >= self.announce_from:
            return Phase.ANNOUNCED
        return Phase.IDLE

    def to_json(self) -> str:
        data: dict[str, Any] = {"format": FORMAT, **asdict(self)}
        for key in ("start", "end", "set_at"):
            if data[key] is not None:
                data[key] = data[key].astimezone(UTC).isoformat()
        data["allow_ips"] = list(self.allow_ips)
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> MaintenanceState:
        """Parse a stored document; ``ValueError`` says what is wrong with it."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("the document is not a JSON object")
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown format {data.get('format')!r}, expected {FORMAT}")
        try:
            retry_after = data.get("retry_after", "auto")
            if retry_after != "auto" and not (isinstance(retry_after, int) and retry_after >= 0):
                raise ValueError(f"retry_after {retry_after!r} is neither 'auto' nor a number of seconds")
            state = cls(
                start=_moment(data["start"]),
                end=None if data.get("end") is None else _moment(data["end"]),
                warn_seconds=int(data.get("warn_seconds", 0)),
                message=str(data.get("message", "")),
                retry_after=retry_after,
                allow_ips=tuple(str(ip) for ip in data.get("allow_ips", ())),
                secret_hash=data.get("secret_hash"),
                set_by=str(data.get("set_by", "")),
                set_at=_moment(data["set_at"]),
                version=int(data.get("version", 1)),
            )
            # Every phase() subtracts the warning from the start: a document where that
            # overflows (written by hand) must fail here, once, not on every request.
            state.announce_from  # noqa: B018
        except (KeyError, TypeError) as exc:
            raise ValueError(f"a field is missing or has the wrong type ({exc})") from exc
        except OverflowError as exc:
            raise ValueError(f"a time or the warning is out of range ({exc})") from exc
        return state

    def updated(self, **changes: Any) -> MaintenanceState:
        return replace(self, **changes)


def _moment(value: Any) -> datetime:
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"the time {value!r} has no UTC offset")
    return moment.astimezone(UTC)
