"""The middleware in an async stack (ASGI): same answers, no thread hop for the view chain."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.test import AsyncClient, AsyncRequestFactory
from django.utils import timezone

from django_deploykit.maintenance.middleware import MaintenanceMiddleware
from django_deploykit.maintenance.stores import FileStore
from tests.maintenance.conftest import NOW, make_state
from tests.maintenance.urls import PAGE

factory = AsyncRequestFactory()


async def view(request: HttpRequest) -> HttpResponseBase:
    return HttpResponse(PAGE.format("<p>async</p>"))


def call(now: Any = NOW, path: str = "/") -> HttpResponseBase:
    middleware = MaintenanceMiddleware(view, clock=lambda: now)
    assert iscoroutinefunction(middleware)
    return asyncio.run(middleware(factory.get(path)))  # type: ignore[no-any-return]


class AsyncMiddlewareTests:
    def test_idle(self, state_file: Path) -> None:
        assert call().status_code == 200

    def test_announced_gets_the_banner(self, state_file: Path) -> None:
        FileStore(state_file).write(make_state())
        response = call(now=NOW - timedelta(minutes=10))
        assert b"Maintenance starts at 12:00 (in 10 minutes)" in response.content

    def test_active_is_503(self, state_file: Path) -> None:
        FileStore(state_file).write(make_state())
        response = call()
        assert (response.status_code, response["Retry-After"]) == (503, "1800")

    def test_through_djangos_asgi_handler(self, state_file: Path, settings: Any) -> None:
        settings.ROOT_URLCONF = "tests.maintenance.urls"
        settings.MIDDLEWARE = ["django_deploykit.maintenance.middleware.MaintenanceMiddleware"]
        now = timezone.now()
        FileStore(state_file).write(
            make_state(start=now - timedelta(minutes=1), end=now + timedelta(minutes=5))
        )
        response = asyncio.run(AsyncClient().get("/", headers={"Accept": "application/json"}))
        assert response.status_code == 503
        assert response["Content-Type"] == "application/problem+json"
