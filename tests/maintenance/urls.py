"""Views the maintenance tests put behind MaintenanceMiddleware."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import include, path
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import condition

PAGE = (
    '<!DOCTYPE html><html><head><title>Notes</title></head><body class="app"><h1>Notes</h1>{}</body></html>'
)
CSP_NONCE = "testnonce123"


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE.format("<p>hello</p>"))


def json_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


def stream(request: HttpRequest) -> StreamingHttpResponse:
    return StreamingHttpResponse(iter([b"<html><body>", b"streamed", b"</body></html>"]))


@gzip_page
def gzipped(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE.format("<p>" + "compressible " * 100 + "</p>"))


@condition(etag_func=lambda request: "v1")
def with_etag(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE.format("<p>cached</p>"))


def fragment(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<li>an htmx fragment</li>")


def csp_page(request: HttpRequest) -> HttpResponse:
    request.csp_nonce = CSP_NONCE  # type: ignore[attr-defined]
    response = HttpResponse(PAGE.format("<p>strict</p>"))
    response["Content-Security-Policy"] = f"default-src 'self'; style-src 'nonce-{CSP_NONCE}'"
    return response


def ok(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", page),
    path("json", json_view),
    path("stream", stream),
    path("gzip", gzipped),
    path("etag", with_etag),
    path("fragment", fragment),
    path("csp", csp_page),
    path("healthz", ok),
    path("static/app.css", ok),
    path("-/deploykit/", include("django_deploykit.urls")),
]
