"""A tiny Django project written into a temp folder, for tests that need a real server process.

Its database points at a port where nothing listens: every page it serves must work with
the database down, as during a migration.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT
from tests.servers import free_port

SETTINGS = """
import os

SECRET_KEY = "tiny-project-for-tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = os.environ.get("TINY_LANGUAGE_CODE", "en-us")
INSTALLED_APPS = ["django_deploykit"]
MIDDLEWARE = ["django_deploykit.maintenance.middleware.MaintenanceMiddleware"]
ROOT_URLCONF = "tinyproject.urls"
WSGI_APPLICATION = "tinyproject.wsgi.application"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "HOST": "127.0.0.1",
        "PORT": os.environ["TINY_DEAD_DATABASE_PORT"],
        "NAME": "down",
        "USER": "nobody",
        "CONNECT_TIMEOUT": 1,
    }
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
if os.environ.get("TINY_REDIS_URL"):
    CACHES["shared"] = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": os.environ["TINY_REDIS_URL"],
        "KEY_PREFIX": os.environ.get("TINY_SLOT", "blue"),
    }
    DEPLOYKIT_MAINTENANCE_CACHE_ALIAS = "shared"
    DEPLOYKIT_MAINTENANCE_CACHE_KEY = os.environ["TINY_CACHE_KEY"]
DEPLOYKIT_MAINTENANCE_STATE_FILE = os.environ["TINY_STATE_FILE"]
DEPLOYKIT_REQUIRE_DISPATCHER = False
STATIC_URL = "/static/"
DEPLOYKIT_MAINTENANCE_EXEMPT_PATHS = ("/healthz",)
"""

URLS = """
from django.http import HttpResponse
from django.urls import path

NONCE = "tinynonce42"
PAGE = (
    "<!DOCTYPE html><html><head><title>Tiny</title>"
    '<style nonce="tinynonce42">body {{ font-family: sans-serif; }}</style></head>'
    "<body><h1>Tiny project</h1><p>{}</p></body></html>"
)


def home(request):
    request.csp_nonce = NONCE
    response = HttpResponse(PAGE.format("Everything is fine."))
    response["Content-Security-Policy"] = f"default-src 'self'; style-src 'nonce-{NONCE}'; script-src 'none'"
    return response


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("", home), path("healthz", healthz)]
"""

WSGI = """
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tinyproject.settings")
application = get_wsgi_application()
"""

MANAGE = """
import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tinyproject.settings")
from django.core.management import execute_from_command_line

execute_from_command_line(sys.argv)
"""


def write_tiny_project(folder: Path) -> Path:
    package = folder / "tinyproject"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(SETTINGS)
    (package / "urls.py").write_text(URLS)
    (package / "wsgi.py").write_text(WSGI)
    (folder / "manage.py").write_text(MANAGE)
    return folder


def tiny_env(state_file: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tinyproject.settings",
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT)]),
        "TINY_STATE_FILE": str(state_file),
        "TINY_DEAD_DATABASE_PORT": str(free_port()),
        **extra,
    }
    env.pop("DEPLOYKIT_ROOT", None)
    return env


PYTHON = sys.executable
