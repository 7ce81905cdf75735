"""A Content-Security-Policy the way django-csp sets one: a nonce on the request, the header on the response."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

NONCE = "console-test-nonce"


class StrictCspMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.csp_nonce = NONCE  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["Content-Security-Policy"] = (
            f"default-src 'self'; script-src 'nonce-{NONCE}'; style-src 'nonce-{NONCE}'"
        )
        return response
