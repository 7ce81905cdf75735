"""The static maintenance page: ``<deploy root>/shared/maintenance.html``, for the web server.

nginx and Apache (the files server_config renders) show it on 502, 503 and 504, so visitors read the
announced message even while the app server is stopped or crashing. It is therefore written ahead of
time, by ``maintenance on`` and ``off``, and must need nothing from the app: inline style, no script,
no link to the site.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from django_deploykit.atomic_files import READABLE_BY_SERVERS, write_atomically
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.maintenance import responses, stores
from django_deploykit.maintenance.state import MaintenanceState, Phase

UNAVAILABLE_TEMPLATE = "django_deploykit/maintenance/unavailable.html"


def page_html(state: MaintenanceState | None, now: datetime) -> str:
    """The page for ``state``: the 503 page of its window, or the generic one without a window."""
    # No request, so no visitor to choose a language for: the project's own.
    with translation.override(settings.LANGUAGE_CODE):
        if state is None or state.phase(now) is Phase.ENDED:
            return responses.render(UNAVAILABLE_TEMPLATE, {"static_page": True, "csp_nonce": None})
        # A window not announced yet still gets its page: nothing rewrites the file when it starts.
        return responses.render(responses.PAGE_TEMPLATE, responses.window_context(state, now, static=True))


def write_static_page(root: DeployRoot, state: MaintenanceState | None, now: datetime) -> Path:
    """Write the page for ``state`` into ``root.maintenance_page``; ``OSError`` if it cannot be written.

    Atomic, so the web server never serves half a page; readable by the web server's user.
    """
    write_atomically(root.maintenance_page, page_html(state, now), mode=READABLE_BY_SERVERS)
    return root.maintenance_page


def ensure_static_page(root: DeployRoot, now: datetime) -> Path:
    """Write the generic page unless a page exists, so the web server has one from the start.

    An existing page is kept: it may announce a window that ``maintenance on`` set.
    """
    if root.maintenance_page.exists():
        return root.maintenance_page
    return write_static_page(root, None, now)


@dataclass(frozen=True)
class PageOutcome:
    """What ``maintenance on`` or ``off`` did to the static page: its path, or why it was not written."""

    path: Path | None = None
    warning: str | None = None


def refresh(state: MaintenanceState | None, now: datetime) -> PageOutcome:
    """Rewrite the page of the deploy root the command works in; nothing outside a deploy root.

    Never raises: the window is already stored and the app's own 503 page works without this file,
    so a failure is a warning, not a failed command.
    """
    try:
        root = stores.deploy_root()
    except ImproperlyConfigured as exc:
        return PageOutcome(warning=_warning(str(exc)))
    if root is None:
        return PageOutcome()
    try:
        return PageOutcome(path=write_static_page(root, state, now))
    except OSError as exc:
        return PageOutcome(warning=_warning(f"{root.maintenance_page}: {exc.strerror or exc}"))
    except Exception as exc:  # a project template that overrides ours and raises
        return PageOutcome(warning=_warning(f"{type(exc).__name__}: {exc}"))


def _warning(why: str) -> str:
    return (
        f"The static maintenance page could not be written ({why}); the window is stored and the app's own "
        "503 page still works."
    )
