"""Asking a server over HTTP: its revision endpoint and health URL, from the URLs in the settings."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any, Final
from urllib.parse import urlsplit

from django_deploykit.redact import redact_error, redact_url


class _SameOriginHeaders(urllib.request.HTTPRedirectHandler):
    """Follow a redirect, but carry the headers we added (the revision token) only to the same scheme, host
    and port: urllib would send them to wherever the redirect points, plain http and other hosts included."""

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is None:
            return None
        before, after = urlsplit(req.full_url), urlsplit(new.full_url)
        if after.scheme not in ("http", "https"):
            raise urllib.error.URLError(f"a redirect to a {after.scheme or 'relative'} URL is not followed")
        if (before.scheme, before.hostname, before.port) != (after.scheme, after.hostname, after.port):
            for name in list(req.headers):
                new.remove_header(name)
        return new


_OPENER: Final = urllib.request.build_opener(_SameOriginHeaders)


def open_http(url: str, timeout: float, headers: dict[str, str] | None = None) -> Any:
    """Open an http(s) URL from the settings; any other scheme is refused."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"{redact_url(url)} is not an http(s) URL")
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (scheme checked above)
    try:
        return _OPENER.open(request, timeout=timeout)
    except http.client.HTTPException as exc:
        # Not a ValueError, so callers would let it through as a traceback quoting a piece of the URL,
        # which is a piece of the password when that holds '/', '?' or '#' ("nonnumeric port: 'Zx9'").
        raise ValueError(f"{type(exc).__name__}: {redact_error(str(exc).strip(), url)}") from None


def revision_endpoint(url: str, timeout: float, token: str | None = None) -> dict[str, object]:
    """What the revision endpoint at ``url`` answered; ``ValueError`` or ``OSError`` when it answered
    nothing usable (a server that speaks garbage, a body that is not a JSON object)."""
    with open_http(url, timeout, {"X-Deploykit-Token": token} if token else None) as response:
        try:
            body = response.read()
        except http.client.HTTPException as exc:
            raise ValueError(f"the answer broke off ({type(exc).__name__})") from None
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("the answer is not a JSON object")
    return data
