"""A deploy root without virtualenvs, users with each right, and the console mounted as the docs say."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from django_deploykit.console.access import CODENAMES, Right
from django_deploykit.deploy_root.layout import DeployRoot
from tests.deployment import Site, build_site

CONSOLE = "/-/deploykit/console/"


@pytest.fixture
def console_settings(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.console.urls"
    settings.MIDDLEWARE = [
        "django_deploykit.maintenance.middleware.MaintenanceMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ]
    settings.TEMPLATES = [
        {
            "BACKEND": "django.template.backends.django.DjangoTemplates",
            "DIRS": [],
            "APP_DIRS": True,
            "OPTIONS": {
                "context_processors": [
                    "django.template.context_processors.request",
                    "django.contrib.auth.context_processors.auth",
                ]
            },
        }
    ]


@pytest.fixture
def root_site(tmp_path: Path, settings: Any, console_settings: None) -> Site:
    """A deploy root of example_project (no virtualenvs) that the console finds through the settings."""
    site = build_site(tmp_path, venvs=False)
    settings.DEPLOYKIT_ROOT = str(site.root.path)
    settings.DEPLOYKIT_PROJECT_SUBDIR = "example_project"
    settings.DEPLOYKIT_MAINTENANCE_STATE_FILE = str(tmp_path / "maintenance.json")
    return site


@pytest.fixture
def root(root_site: Site) -> DeployRoot:
    return root_site.root


def grant(user: User, *rights: Right) -> User:
    for right in rights:
        user.user_permissions.add(Permission.objects.get(codename=CODENAMES[right]))
    return User.objects.get(pk=user.pk)  # a fresh object: permissions are cached per instance


@pytest.fixture
def client_for(db: None) -> Callable[..., Client]:
    """A signed-in client for a new user with ``rights`` (through a group when ``group`` is set)."""

    def make(*rights: Right, group: bool = False, username: str | None = None, **client: Any) -> Client:
        user = User.objects.create_user(username or f"user-{'-'.join(rights) or 'none'}", password="pw")
        if group:
            team = Group.objects.create(name=f"team-{user.username}")
            for right in rights:
                team.permissions.add(Permission.objects.get(codename=CODENAMES[right]))
            user.groups.add(team)
        else:
            grant(user, *rights)
        browser = Client(**client)
        browser.force_login(user)
        return browser

    return make
