"""The 503 answer of an active window and the banner of an announced one."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template import Context, Engine, TemplateDoesNotExist, loader
from django.utils import timezone
from django.utils.http import http_date

from django_deploykit.conf import conf
from django_deploykit.maintenance.schedule import describe_duration, describe_moment
from django_deploykit.maintenance.state import MaintenanceState

PAGE_TEMPLATE = "django_deploykit/maintenance/503.html"
BANNER_TEMPLATE = "django_deploykit/maintenance/banner.html"
PROBLEM_JSON = "application/problem+json"

_BODY_TAG_RE = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)
_TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
_fallback_engine: Engine | None = None


def render(template_name: str, context: dict[str, Any]) -> str:
    """Render with the project's engines, so a project can override our templates.

    Projects without a Django template engine get the package's own templates.
    The request is not passed: context processors may touch the session, so the database.
    """
    try:
        return loader.render_to_string(template_name, context)
    except TemplateDoesNotExist:
        global _fallback_engine
        if _fallback_engine is None:
            _fallback_engine = Engine(dirs=[str(_TEMPLATES_DIR)], autoescape=True)
        return _fallback_engine.get_template(template_name).render(Context(context))


def csp_nonce(request: HttpRequest) -> str | None:
    """The request's CSP nonce: django-csp's ``request.csp_nonce`` or Django 6's ``request._csp_nonce``.

    Django's lazy nonce is false until the page used it, and then the header holds it; an
    unused nonce is left alone, since the header was already written without it.
    """
    for attribute in ("csp_nonce", "_csp_nonce"):
        nonce = getattr(request, attribute, None)
        if nonce:
            return str(nonce)
    return None


def retry_after(state: MaintenanceState, now: datetime) -> str:
    if state.retry_after != "auto":
        return str(state.retry_after)
    if state.end is not None:
        seconds = max(1, math.ceil((state.end - now).total_seconds()))
    else:
        seconds = max(1, int(conf.MAINTENANCE_DEFAULT_RETRY_AFTER))
    if conf.MAINTENANCE_RETRY_AFTER_FORMAT == "http-date":
        return http_date((now + timedelta(seconds=seconds)).timestamp())
    return str(seconds)


def _window_context(state: MaintenanceState, now: datetime) -> dict[str, Any]:
    zone = timezone.get_current_timezone()
    back_at = None
    if state.end is not None:
        back_at = describe_moment(state.end, now=now, zone=zone)
    return {
        "message": state.message,
        "start": state.start.astimezone(zone),
        "end": None if state.end is None else state.end.astimezone(zone),
        "starts_at": _clock_and_day(state.start, now, zone),
        "starts_when": describe_moment(state.start, now=now, zone=zone),
        "starts_in": describe_duration(state.start - now),
        "back_at": back_at,
        "back_in": None if state.end is None else describe_duration(state.end - now),
    }


def _clock_and_day(moment: datetime, now: datetime, zone: tzinfo) -> str:
    """``14:00`` today, ``14:00 tomorrow`` or ``14:00 on 2026-12-01``."""
    local = moment.astimezone(zone)
    clock = local.strftime("%H:%M")
    days = (local.date() - now.astimezone(zone).date()).days
    if days == 0:
        return clock
    if days == 1:
        return f"{clock} tomorrow"
    return f"{clock} on {local.date().isoformat()}"


def wants_json(request: HttpRequest) -> bool:
    preferred = request.get_preferred_type(["text/html", PROBLEM_JSON, "application/json"])
    return preferred in {PROBLEM_JSON, "application/json"}


def unavailable(request: HttpRequest, state: MaintenanceState, now: datetime) -> HttpResponse:
    context = _window_context(state, now)
    if wants_json(request):
        problem: dict[str, Any] = {
            "type": "about:blank",
            "title": "Service Unavailable",
            "status": 503,
            "detail": state.message or "The site is down for maintenance.",
        }
        if state.end is not None:
            problem["end"] = state.end.isoformat()
        body = json.dumps(problem)
        response = HttpResponse(body, status=503, content_type=PROBLEM_JSON)
    else:
        context["csp_nonce"] = csp_nonce(request)
        response = HttpResponse(render(PAGE_TEMPLATE, context), status=503)
    response["Retry-After"] = retry_after(state, now)
    response["Cache-Control"] = "no-store"
    response["Vary"] = "Accept"
    if request.method == "HEAD":
        response.content = b""
    return response


def can_carry_banner(response: HttpResponseBase) -> bool:
    if response.streaming or response.status_code in {204, 304}:
        return False
    if response.has_header("Content-Encoding"):
        return False
    if response.get("Content-Disposition", "").lower().startswith("attachment"):
        return False
    return str(response.get("Content-Type", "")).lower().startswith("text/html")


def add_banner(
    request: HttpRequest, response: HttpResponseBase, state: MaintenanceState, now: datetime
) -> None:
    """Insert the banner right after ``<body>``; pages without one (fragments) are left alone."""
    if not isinstance(response, HttpResponse) or not can_carry_banner(response):
        return
    content = response.content
    match = _BODY_TAG_RE.search(content)
    if match is None:
        return
    context = _window_context(state, now)
    context["csp_nonce"] = csp_nonce(request)
    banner = render(BANNER_TEMPLATE, context).encode(response.charset)
    response.content = content[: match.end()] + banner + content[match.end() :]
    if response.has_header("Content-Length"):
        response["Content-Length"] = str(len(response.content))
    # The validator described the page without the banner; keeping it would let a cache
    # serve the bannered page after the window, or the plain one during it.
    del response["ETag"]
