"""The 503 answer of an active window and the banner of an announced one."""

from __future__ import annotations

import json
import logging
import math
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template import Context, Engine, TemplateDoesNotExist, loader
from django.utils import timezone, translation
from django.utils.cache import get_max_age, patch_vary_headers
from django.utils.http import http_date, parse_http_date_safe
from django.utils.translation import gettext

from django_deploykit.conf import conf
from django_deploykit.maintenance import visitor_words
from django_deploykit.maintenance.schedule import days_from_today
from django_deploykit.maintenance.state import MaintenanceState

PAGE_TEMPLATE = "django_deploykit/maintenance/503.html"
BANNER_TEMPLATE = "django_deploykit/maintenance/banner.html"
PROBLEM_JSON = "application/problem+json"
LOCALE_MIDDLEWARE = "django.middleware.locale.LocaleMiddleware"

logger = logging.getLogger("django_deploykit.maintenance")

_BODY_TAG_RE = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
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
            _fallback_engine = Engine(
                dirs=[str(_TEMPLATES_DIR)], autoescape=True, libraries={"i18n": "django.templatetags.i18n"}
            )
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


def visitor_language(request: HttpRequest) -> tuple[str, bool]:
    """The language of our texts for ``request``, and whether it was negotiated from the request.

    The middleware runs before LocaleMiddleware, so with it in MIDDLEWARE this makes the
    choice that middleware would make (URL prefix, cookie, Accept-Language); without it,
    Django shows every visitor LANGUAGE_CODE.
    """
    if not (settings.USE_I18N and LOCALE_MIDDLEWARE in settings.MIDDLEWARE):
        return settings.LANGUAGE_CODE, False
    urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
    prefixes_used, default_prefixed = is_language_prefix_patterns_used(urlconf)
    language = translation.get_language_from_request(request, check_path=prefixes_used)
    if prefixes_used and not default_prefixed and not translation.get_language_from_path(request.path_info):
        language = settings.LANGUAGE_CODE
    return language, True


def window_context(state: MaintenanceState, now: datetime, *, static: bool = False) -> dict[str, Any]:
    """The template context, in the language active while it is built.

    ``static`` is for the static page a web server shows (static_page.py): it is read long after it
    was written, so it gets dates rather than "today" or "in 25 minutes" (``starts_day``,
    ``starts_in`` and ``back_in`` are None), and no request, so no CSP nonce.
    """
    zone = timezone.get_current_timezone()
    context: dict[str, Any] = {
        "message": state.message,
        "start": state.start.astimezone(zone),
        "end": None if state.end is None else state.end.astimezone(zone),
        "starts_day": None if static else days_from_today(state.start, now=now, zone=zone),
        "starts_clock": visitor_words.clock(state.start, zone),
        "starts_date": visitor_words.day(state.start, zone),
        "starts_at": (
            visitor_words.fixed_clock_and_day_words(state.start, zone)
            if static
            else visitor_words.clock_and_day_words(state.start, now=now, zone=zone)
        ),
        "starts_when": (
            visitor_words.fixed_moment_words(state.start, zone)
            if static
            else visitor_words.moment_words(state.start, now=now, zone=zone)
        ),
        "starts_in": None if static else visitor_words.duration_words(state.start - now),
        "back_at": None,
        "back_in": None,
        "static_page": static,
        "csp_nonce": None,
    }
    if state.end is not None:
        context["back_at"] = (
            visitor_words.fixed_moment_words(state.end, zone)
            if static
            else visitor_words.moment_words(state.end, now=now, zone=zone)
        )
        context["back_in"] = None if static else visitor_words.duration_words(state.end - now)
    return context


def wants_json(request: HttpRequest) -> bool:
    preferred = request.get_preferred_type(["text/html", PROBLEM_JSON, "application/json"])
    return preferred in {PROBLEM_JSON, "application/json"}


def unavailable(request: HttpRequest, state: MaintenanceState, now: datetime) -> HttpResponse:
    """The 503 of an active window; never raises, so the window never turns into a 500."""
    try:
        return _rendered_unavailable(request, state, now)
    except Exception as exc:  # a project template, a translation or the stored state itself
        log_once(
            f"The maintenance page could not be rendered ({type(exc).__name__}: {exc}); a plain-text 503 was "
            "sent instead."
        )
        return plain_unavailable(request, state, now)


def _rendered_unavailable(request: HttpRequest, state: MaintenanceState, now: datetime) -> HttpResponse:
    language, negotiated = visitor_language(request)
    # Only around our own rendering: the rest of the request keeps the language it had.
    with translation.override(language):
        if wants_json(request):
            response = _problem_json(state)
        else:
            context = window_context(state, now)
            context["csp_nonce"] = csp_nonce(request)
            response = HttpResponse(render(PAGE_TEMPLATE, context), status=503)
    response["Retry-After"] = retry_after(state, now)
    response["Cache-Control"] = "no-store"
    response["Vary"] = "Accept"
    if negotiated:
        response["Content-Language"] = language
        patch_vary_headers(response, ["Accept-Language"])
    if request.method == "HEAD":
        response.content = b""
    return response


def plain_unavailable(request: HttpRequest, state: MaintenanceState, now: datetime) -> HttpResponse:
    """The 503 when the page cannot be rendered: English text, built from nothing that can fail.

    The operator's message is kept, with any character UTF-8 cannot hold (a lone surrogate
    from a state written before arguments were checked) replaced.
    """
    message = _SURROGATE_RE.sub("\N{REPLACEMENT CHARACTER}", state.message)
    text = "Service unavailable: the site is down for maintenance.\n" + (f"{message}\n" if message else "")
    response = HttpResponse(text, status=503, content_type="text/plain; charset=utf-8")
    try:
        response["Retry-After"] = retry_after(state, now)
    except Exception:  # a corrupt end or setting: the header is advice, the 503 is what matters
        response["Retry-After"] = "300"
    response["Cache-Control"] = "no-store"
    if request.method == "HEAD":
        response.content = b""
    return response


_last_logged: str | None = None


def log_once(message: str) -> None:
    # The same failure repeats on every request of the window; one line per change is enough.
    global _last_logged
    if message != _last_logged:
        _last_logged = message
        logger.error(message)


def _problem_json(state: MaintenanceState) -> HttpResponse:
    problem: dict[str, Any] = {
        "type": "about:blank",
        "title": gettext("Service Unavailable"),
        "status": 503,
        "detail": state.message or gettext("The site is down for maintenance."),
    }
    if state.end is not None:
        problem["end"] = state.end.isoformat()
    return HttpResponse(json.dumps(problem), status=503, content_type=PROBLEM_JSON)


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
    """Insert the banner right after ``<body>``; pages without one (fragments) are left alone.

    Never raises: the banner is a courtesy, so on any failure the page goes out as the view made it.
    """
    if not isinstance(response, HttpResponse) or not can_carry_banner(response):
        return
    try:
        content = _content_with_banner(request, response, state, now)
    except Exception as exc:  # an unknown charset, a project template, the stored state itself
        log_once(
            f"The maintenance banner could not be added ({type(exc).__name__}: {exc}); the page was sent "
            "without it."
        )
        return
    if content is None:
        return
    response.content = content
    if response.has_header("Content-Length"):
        response["Content-Length"] = str(len(response.content))
    # The validator described the page without the banner; keeping it would let a cache
    # serve the bannered page after the window, or the plain one during it.
    del response["ETag"]
    keep_private_until(response, state.start, now)


# Directives that let a shared cache store the page, or set a lifetime we recompute.
_DROPPED_DIRECTIVES = frozenset({"public", "private", "s-maxage", "max-age"})


def keep_private_until(response: HttpResponseBase, deadline: datetime, now: datetime) -> None:
    """Keep a page we changed out of shared caches, and out of any cache past ``deadline``.

    ``private`` rather than a shorter shared lifetime: the banner is in the visitor's language
    and says "in 25 minutes", so a copy served to someone else, or later, is wrong. A lifetime
    the view gave (max-age, or Expires) is cut to the time left until ``deadline``; a page
    without one gets none, since adding one would let browsers keep what the view did not let
    them keep. Other directives (no-store, must-revalidate, ...) stay as the view set them.
    """
    directives = [d.strip() for d in str(response.get("Cache-Control", "")).split(",") if d.strip()]
    max_age = get_max_age(response)
    expires = response.get("Expires")
    kept = [d for d in directives if d.partition("=")[0].strip().lower() not in _DROPPED_DIRECTIVES]
    kept.append("private")
    if max_age is not None or expires is not None:
        left = max(0, math.floor((deadline - now).total_seconds()))
        if max_age is None:
            # An Expires Django cannot read counts as already past, as RFC 9111 says.
            expires_at = parse_http_date_safe(str(expires))
            max_age = 0 if expires_at is None else max(0, math.floor(expires_at - now.timestamp()))
        kept.append(f"max-age={min(max_age, left)}")
        # Cache-Control wins over Expires in HTTP/1.1; removed so no cache reads a later end from it.
        del response["Expires"]
    response["Cache-Control"] = ", ".join(kept)


def _content_with_banner(
    request: HttpRequest, response: HttpResponse, state: MaintenanceState, now: datetime
) -> bytes | None:
    charset = response.charset
    # The banner is spliced into the page's bytes, which only works in a charset that writes
    # ASCII as ASCII (UTF-8, ISO-8859-*, windows-125x); in UTF-16 it would garble the page.
    if "<body>".encode(charset) != b"<body>":
        return None
    content = response.content
    match = _BODY_TAG_RE.search(content)
    if match is None:
        return None
    language, _ = visitor_language(request)
    with translation.override(language):
        context = window_context(state, now)
        context["csp_nonce"] = csp_nonce(request)
        # What the page's charset cannot hold (an em dash in ISO-8859-1, a lone surrogate
        # anywhere) becomes an HTML character reference, which every browser reads.
        banner = render(BANNER_TEMPLATE, context).encode(charset, "xmlcharrefreplace")
    return content[: match.end()] + banner + content[match.end() :]
