"""A project whose DatabaseCache lives in a real server's database; for the PostgreSQL and MariaDB tests.

DATABASE_URL, CACHE_TABLE and KEY_PREFIX come from the environment.
"""

from __future__ import annotations

import os

from django_deploykit.settings import parse_database_url

SECRET_KEY = "django_deploykit-tests-not-secret"
INSTALLED_APPS = ["django_deploykit"]
DATABASES = {"default": parse_database_url(os.environ["DATABASE_URL"])}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": os.environ["CACHE_TABLE"],
        "KEY_PREFIX": os.environ["KEY_PREFIX"],
    }
}
USE_TZ = True
DEPLOYKIT_REQUIRE_DISPATCHER = False
