"""MaintenanceMiddleware: first in MIDDLEWARE, and needs no database.

Idle, a request costs one clock read and one comparison: the state is kept in memory for
at most ``DEPLOYKIT_MAINTENANCE_STALENESS`` seconds. Nothing is written on the request path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.urls import Resolver404, get_script_prefix, resolve

from django_deploykit.conf import conf
from django_deploykit.maintenance import bypass, responses
from django_deploykit.maintenance.client_ip import cached_networks, client_ip, in_networks
from django_deploykit.maintenance.reader import StateReader
from django_deploykit.maintenance.schedule import Clock, utc_now
from django_deploykit.maintenance.state import PHASE_WEIGHT, MaintenanceState, Phase

# A sync or an async view chain; Django gives one or the other.
GetResponse = Callable[[HttpRequest], Any]
Banner = tuple[MaintenanceState, datetime]
# Set on a request held for MaintenanceStaffMiddleware's decision.
PENDING_ATTRIBUTE = "_deploykit_maintenance_pending"
# Set on a request let through an active window by a bypass (cookie, address, staff): its page is the
# view's, but it must not reach a shared cache that would serve it to everyone during the window.
BYPASSED_ATTRIBUTE = "_deploykit_maintenance_bypassed"
STAFF_MIDDLEWARE = "django_deploykit.maintenance.middleware.MaintenanceStaffMiddleware"


class _SyncAndAsync:
    """A middleware for sync and async chains alike, set up as Django's documentation shows. Each subclass
    keeps its own ``__call__``: the dispatch to ``__acall__`` is its first line, not another call on the
    path of every request."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        raise NotImplementedError


class MaintenanceMiddleware(_SyncAndAsync):
    def __init__(
        self, get_response: GetResponse, *, clock: Clock = utc_now, reader: StateReader | None = None
    ) -> None:
        super().__init__(get_response)
        self.clock = clock
        self.reader = reader or StateReader()

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        reader = self.reader
        states = reader.states if reader.monotonic() < reader.fresh_until else reader.refresh()
        if not states:
            return self.get_response(request)
        answer, banner = self._decide_safely(request, states)
        if answer is not None:
            return answer
        response: HttpResponseBase = self.get_response(request)
        if banner is not None:
            responses.add_banner(request, response, *banner)
        keep_bypassed_private(request, response)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        # A refresh reads a file (and maybe one Redis key) at most once per staleness
        # period; that short blocking read is cheaper than a thread hop on every request.
        reader = self.reader
        states = reader.states if reader.monotonic() < reader.fresh_until else reader.refresh()
        if not states:
            return cast(HttpResponseBase, await self.get_response(request))
        answer, banner = self._decide_safely(request, states)
        if answer is not None:
            return answer
        response: HttpResponseBase = await self.get_response(request)
        if banner is not None:
            responses.add_banner(request, response, *banner)
        keep_bypassed_private(request, response)
        return response

    def _decide_safely(
        self, request: HttpRequest, states: tuple[MaintenanceState, ...]
    ) -> tuple[HttpResponseBase | None, Banner | None]:
        """``_decide``, but a failure of ours (a broken setting, say) is never a 500.

        During an active window the answer is then the plain 503, as if no bypass applied;
        otherwise the page is served without a banner.
        """
        try:
            return self._decide(request, states)
        except Exception as exc:
            responses.log_once(
                f"The maintenance middleware could not decide on a request ({type(exc).__name__}: {exc}); "
                "during an active window it answers 503, otherwise it serves the page."
            )
        now = self.clock()
        for state in states:
            if state.phase(now) is Phase.ACTIVE:
                return responses.plain_unavailable(request, state, now), None
        return None, None

    def _decide(
        self, request: HttpRequest, states: tuple[MaintenanceState, ...]
    ) -> tuple[HttpResponseBase | None, Banner | None]:
        """Either an answer of our own, or the view's, with or without a banner."""
        now = self.clock()
        state, phase = decisive(states, now)
        redirect = self._bypass_url(request, states)
        if redirect is not None:
            return redirect, None
        if phase is Phase.ANNOUNCED:
            return None, (state, now)
        if phase is not Phase.ACTIVE or self._exempt(request):
            return None, None
        if self._passes_every_active(request, states, now):
            setattr(request, BYPASSED_ATTRIBUTE, (state, now))
            return None, None
        # Without the staff middleware further down, deferring would let everyone through.
        if conf.MAINTENANCE_STAFF_BYPASS and STAFF_MIDDLEWARE in settings.MIDDLEWARE:
            setattr(request, PENDING_ATTRIBUTE, (state, now))
            return None, None
        return responses.unavailable(request, state, now), None

    def _passes_every_active(
        self, request: HttpRequest, states: tuple[MaintenanceState, ...], now: datetime
    ) -> bool:
        active = [s for s in states if s.phase(now) is Phase.ACTIVE]
        # When both scopes are active, each must let the request through: the host's own
        # allowlist cannot open a window that the shared scope closed for everyone.
        return all(self._passes(request, state) for state in active)

    def _exempt(self, request: HttpRequest) -> bool:
        path = request.path_info
        # A wrong secret is not an exempt endpoint: it gets the 503 like any other page.
        if path.startswith(bypass.bypass_path(conf.ENDPOINTS_PREFIX, "")):
            return False
        if path.startswith(exempt_paths()):
            return True
        if path.startswith(conf.ENDPOINTS_PREFIX):
            return is_package_endpoint(request)
        # STATIC_URL and MEDIA_URL already hold the script prefix, so they are compared
        # with the full path.
        return request.path.startswith(asset_prefixes())

    def _passes(self, request: HttpRequest, state: MaintenanceState) -> bool:
        cookie = request.COOKIES.get(conf.MAINTENANCE_COOKIE_NAME)
        if cookie and bypass.cookie_is_valid(cookie, state.secret_hash, int(conf.MAINTENANCE_COOKIE_MAX_AGE)):
            return True
        if not state.allow_ips:
            return False
        try:
            proxies = cached_networks(tuple(conf.MAINTENANCE_TRUSTED_PROXIES), "A trusted proxy")
            allowed = cached_networks(state.allow_ips, "An allowed IP")
        except ValueError:
            # Reported by the system checks (E013) or refused by the command; a bad list
            # lets nobody through rather than failing every request with a 500.
            return False
        address = client_ip(request.META, proxies)
        return address is not None and in_networks(address, allowed)

    def _bypass_url(
        self, request: HttpRequest, states: tuple[MaintenanceState, ...]
    ) -> HttpResponseRedirect | None:
        prefix = bypass.bypass_path(conf.ENDPOINTS_PREFIX, "")
        if not request.path_info.startswith(prefix):
            return None
        secret = request.path_info[len(prefix) :]
        for state in states:
            if state.secret_hash and bypass.secret_matches(secret, state.secret_hash):
                response = HttpResponseRedirect(get_script_prefix())
                response.set_cookie(
                    conf.MAINTENANCE_COOKIE_NAME,
                    bypass.make_cookie_value(state.secret_hash),
                    max_age=int(conf.MAINTENANCE_COOKIE_MAX_AGE),
                    secure=request.is_secure(),
                    httponly=True,
                    samesite="Lax",
                )
                response["Cache-Control"] = "no-store"
                return response
        return None


class MaintenanceStaffMiddleware(_SyncAndAsync):
    """Lets staff through an active window; place it after AuthenticationMiddleware.

    Deciding who is staff reads the session and the user, which with Django's default
    session engine means the database: only enable DEPLOYKIT_MAINTENANCE_STAFF_BYPASS when
    the database stays up during maintenance.
    """

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        pending: Banner | None = getattr(request, PENDING_ATTRIBUTE, None)
        if pending is None:
            return self.get_response(request)
        if is_staff(getattr(request, "user", None)):
            setattr(request, BYPASSED_ATTRIBUTE, pending)
            return self.get_response(request)
        return responses.unavailable(request, *pending)

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        pending: Banner | None = getattr(request, PENDING_ATTRIBUTE, None)
        auser = getattr(request, "auser", None)
        if pending is None:
            return cast(HttpResponseBase, await self.get_response(request))
        if auser is not None and is_staff(await auser()):
            setattr(request, BYPASSED_ATTRIBUTE, pending)
            return cast(HttpResponseBase, await self.get_response(request))
        return responses.unavailable(request, *pending)


def keep_bypassed_private(request: HttpRequest, response: HttpResponseBase) -> None:
    """A page let through an active window by a bypass stays out of shared caches (``private``), and out
    of the visitor's own past the window's end; never raises (a page is better than a 500)."""
    bypassed: Banner | None = getattr(request, BYPASSED_ATTRIBUTE, None)
    if bypassed is None:
        return
    state, now = bypassed
    try:
        responses.keep_private_until(response, state.end or now, now)
    except Exception as exc:
        responses.log_once(
            f"A bypassed page's caching headers could not be set ({type(exc).__name__}: {exc})."
        )


def is_staff(user: Any) -> bool:
    return bool(user is not None and user.is_active and user.is_staff)


def decisive(states: tuple[MaintenanceState, ...], now: datetime) -> tuple[MaintenanceState, Phase]:
    """The state whose phase matters most now (either scope active means active)."""
    best = max(states, key=lambda s: PHASE_WEIGHT[s.phase(now)])
    return best, best.phase(now)


def exempt_paths() -> tuple[str, ...]:
    """The entries of DEPLOYKIT_MAINTENANCE_EXEMPT_PATHS that are prefixes narrower than the site.

    "" or "/" (or a string given for the tuple, whose first letter is "/") would exempt every
    path and turn the window off; such entries are ignored, and check E019 reports them.
    """
    configured: object = conf.MAINTENANCE_EXEMPT_PATHS  # a setting may hold anything
    if isinstance(configured, str) or not isinstance(configured, Iterable):
        return ()
    return tuple(path for path in configured if is_narrow_exempt_path(path))


def is_narrow_exempt_path(path: object) -> bool:
    return isinstance(path, str) and path.startswith("/") and path != "/"


# The revision endpoint's and the deploy console's: an operator ends a window from the console during it.
PACKAGE_VIEWS = ("django_deploykit.views", "django_deploykit.console_views")


def is_package_endpoint(request: HttpRequest) -> bool:
    """Whether the request resolves to one of the package's own views (django_deploykit.urls).

    Not every path under the prefix: a project with a catch-all pattern (a CMS) would serve its
    own pages there during the window.
    """
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return False
    except Exception:  # a URLconf that fails to load: the view would fail too, so the 503 is kinder
        return False
    # By the view's module, not by importing the package's URLconf: the middleware sits below the entry
    # points (docs/architecture.md), and every view of the package's URLconfs lives in one of these modules.
    return getattr(match.func, "__module__", None) in PACKAGE_VIEWS


def asset_prefixes() -> tuple[str, ...]:
    prefixes = []
    for url in (settings.STATIC_URL, settings.MEDIA_URL):
        parts = urlsplit(str(url or ""))
        # An absolute URL on another host (a CDN) is not served here at all.
        if parts.path and not parts.netloc:
            prefixes.append(parts.path if parts.path.startswith("/") else "/" + parts.path)
    return tuple(p for p in prefixes if p != "/")
