"""Posting a deploy's events to its targets: the payload of each format, and one bounded POST per target.

Nothing here raises: a target that cannot be reached, answers an error or is misconfigured is a
``Delivery`` that says so, in words that never quote the target's address or token.
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

from django_deploykit.notifications.targets import Event, Target
from django_deploykit.redact import redact_text
from django_deploykit.text import shorten

TIMEOUT: Final = 5.0
# However many targets there are, a deploy waits at most this long for one event's posts.
BUDGET: Final = 20.0
MESSAGE_LIMIT: Final = 500
USER_AGENT: Final = "django-deploykit notifications"


@dataclass(frozen=True)
class DeployEvent:
    """What a deploy tells its targets; ``result`` is "started", "ok", "failed" or "interrupted"."""

    event: Event
    project: str
    run_id: str
    ref: str
    user: str
    result: str
    duration: float
    revision: str | None = None
    from_revision: str | None = None
    message: str = ""


@dataclass(frozen=True)
class Delivery:
    """How posting to one target went, naming the target by its label."""

    target: str
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def payload(target: Target, event: DeployEvent) -> dict[str, Any]:
    """The JSON body ``target`` gets for ``event``."""
    message = shorten(redact_text(event.message), MESSAGE_LIMIT)
    if target.format == "sentry":
        return {
            "version": event.revision,
            "projects": list(target.projects),
            "dateReleased": datetime.now(UTC).isoformat(timespec="seconds"),
        }
    if target.format == "slack":
        return {"text": slack_text(event, message)}
    return {
        "event": event.event,
        "project": event.project,
        "run_id": event.run_id,
        "ref": event.ref,
        "revision": event.revision,
        "from_revision": event.from_revision,
        "user": event.user,
        "result": event.result,
        "duration": round(event.duration, 1),
        "message": message,
    }


def slack_text(event: DeployEvent, message: str) -> str:
    who = f"by {event.user}"
    if event.event == "start":
        return f"{event.project}: deploying {event.ref} {who} (run {event.run_id})."
    revision = (event.revision or "?")[:12]
    if event.event == "success":
        return f"{event.project}: deployed {event.ref} ({revision}) {who} in {event.duration:.0f} s."
    said = f": {message}" if message else "."
    return (
        f"{event.project}: the deploy of {event.ref} {who} {event.result} after {event.duration:.0f} s{said}"
    )


def send(
    targets: Sequence[Target],
    event: DeployEvent,
    *,
    timeout: float = TIMEOUT,
    budget: float = BUDGET,
    environ: Mapping[str, str] | None = None,
) -> list[Delivery]:
    """Post ``event`` to every target that wants it, one after the other; never raises."""
    environ = os.environ if environ is None else environ
    deadline = time.monotonic() + budget
    deliveries = []
    for target in targets:
        if not target.wants(event.event):
            continue
        left = deadline - time.monotonic()
        if left <= 0:
            deliveries.append(Delivery(target.label, False, f"not sent: {budget:g} s of posting were spent"))
            continue
        try:
            deliveries.append(_deliver(target, event, min(timeout, left), environ))
        except Exception as exc:
            deliveries.append(Delivery(target.label, False, _safe(f"{type(exc).__name__}: {exc}", target)))
    return deliveries


def summary(deliveries: Sequence[Delivery], event: Event) -> str:
    """ "notified 2 targets of the start; 1 failed: https://hooks.slack.com/… (HTTP 500)"."""
    count = len(deliveries)
    said = f"notified {count} target{'' if count == 1 else 's'} of the {event}"
    failed = [delivery for delivery in deliveries if not delivery.ok]
    if not failed:
        return said
    listing = ", ".join(f"{delivery.target} ({delivery.detail})" for delivery in failed)
    return f"{said}; {len(failed)} failed: {listing}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect would carry the Authorization header elsewhere; a webhook that moved answers an error.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER: Final = urllib.request.build_opener(_NoRedirects)


def _deliver(target: Target, event: DeployEvent, timeout: float, environ: Mapping[str, str]) -> Delivery:
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if target.format == "sentry":
        assert target.token_env is not None
        token = environ.get(target.token_env, "")
        if not token:
            return Delivery(target.label, False, f"not sent: the variable {target.token_env} is not set")
        if not event.revision:
            return Delivery(target.label, False, "not sent: the deploy has no revision to mark")
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps(payload(target, event)).encode("utf-8")
    request = urllib.request.Request(target.url, data=body, headers=headers, method="POST")  # noqa: S310 (checked http(s))
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return Delivery(target.label, True, f"HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        exc.close()
        return Delivery(target.label, False, f"HTTP {exc.code}")
    except urllib.error.URLError as exc:
        return Delivery(target.label, False, _safe(_reason(exc.reason), target, environ))
    except TimeoutError:
        return Delivery(target.label, False, f"no answer within {timeout:g} s")
    except OSError as exc:
        return Delivery(target.label, False, _safe(_reason(exc), target, environ))


def _reason(reason: Any) -> str:
    if isinstance(reason, (TimeoutError, socket.timeout)):
        return "no answer in time"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason)


def _safe(text: str, target: Target, environ: Mapping[str, str] | None = None) -> str:
    """``text`` without the target's address, path or token, whatever the error quoted."""
    secrets = [target.url, urlsplit(target.url).path, urlsplit(target.url).query]
    if target.token_env and environ is not None:
        secrets.append(environ.get(target.token_env, ""))
    return redact_text(text, tuple(secret for secret in secrets if len(secret) > 1))
