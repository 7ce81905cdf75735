"""The package's own endpoints; they use no database, so they answer during a deploy."""

from __future__ import annotations

import hmac
import ipaddress

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache

from django_deploykit.conf import conf
from django_deploykit.deploy_root.revision import running

# Set by a reverse proxy: a request that carries one is not from this machine, whatever
# REMOTE_ADDR says (nginx on the same host connects from 127.0.0.1).
_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP", "HTTP_FORWARDED")


def _is_local(request: HttpRequest) -> bool:
    if any(header in request.META for header in _PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def _has_token(request: HttpRequest) -> bool:
    expected = conf.REVISION_TOKEN
    if not expected:
        return False
    given = request.headers.get("X-Deploykit-Token", "")
    return hmac.compare_digest(given.encode(), expected.encode())


@never_cache
def revision(request: HttpRequest) -> HttpResponse:
    """Report the revision, slot, virtualenv and settings mode this process started with."""
    if not (_is_local(request) or _has_token(request)):
        return JsonResponse(
            {"error": "The revision endpoint answers only local requests or a valid token."}, status=403
        )
    return JsonResponse(running().as_dict())
