from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from django_deploykit.maintenance.stores import FileStore
from tests.maintenance.conftest import make_state


@pytest.fixture
def staff_stack(settings: Any, state_file: Path) -> None:
    settings.ROOT_URLCONF = "tests.maintenance.urls"
    settings.DEPLOYKIT_MAINTENANCE_STAFF_BYPASS = True
    settings.MIDDLEWARE = [
        "django_deploykit.maintenance.middleware.MaintenanceMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django_deploykit.maintenance.middleware.MaintenanceStaffMiddleware",
    ]
    now = timezone.now()
    FileStore(state_file).write(make_state(start=now - timedelta(minutes=1), end=now + timedelta(minutes=30)))


@pytest.mark.django_db
class StaffBypassTests:
    def test_staff_passes(self, staff_stack: None) -> None:
        client = Client()
        client.force_login(User.objects.create(username="admin", is_staff=True))
        assert client.get("/").status_code == 200

    def test_other_users_and_anonymous_get_the_503(self, staff_stack: None) -> None:
        assert Client().get("/").status_code == 503
        client = Client()
        client.force_login(User.objects.create(username="someone"))
        response = client.get("/")
        assert response.status_code == 503
        assert response["Retry-After"]

    def test_without_the_staff_middleware_staff_get_the_503_too(
        self, staff_stack: None, settings: Any
    ) -> None:
        settings.MIDDLEWARE = settings.MIDDLEWARE[:-1]
        client = Client()
        client.force_login(User.objects.create(username="admin", is_staff=True))
        assert client.get("/").status_code == 503

    def test_the_page_staff_see_stays_out_of_shared_caches(self, staff_stack: None) -> None:
        client = Client()
        client.force_login(User.objects.create(username="admin", is_staff=True))
        response = client.get("/")
        assert response.status_code == 200
        assert "private" in response["Cache-Control"]
