"""A project whose last pattern catches every path (a CMS), below the package's endpoints."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import re_path

from tests.maintenance import urls


def cms_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(urls.PAGE.format(f"<p>CMS page {request.path}</p>"))


urlpatterns = [*urls.urlpatterns, re_path(r"", cms_page)]
