"""Settings of a project on Memcached whose instances clear by generation; for the cross-process tests.

MEMCACHED_LOCATION, GENERATIONS_FILE and SLOT come from the environment, as a deployed
project's would.
"""

from __future__ import annotations

import os

from django_deploykit import slots
from django_deploykit.cache_clearing.generations import with_cache_generations

SECRET_KEY = "django_deploykit-tests-not-secret"
INSTALLED_APPS = ["django_deploykit"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
USE_TZ = True
DEPLOYKIT_REQUIRE_DISPATCHER = False

CACHES = with_cache_generations(
    slots.with_slot_key_prefixes(
        {
            "default": {
                "BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
                "LOCATION": os.environ["MEMCACHED_LOCATION"],
            }
        },
        base_prefix=os.environ["BASE_PREFIX"],
        slot=os.environ["SLOT"],
    ),
    os.environ["GENERATIONS_FILE"],
)
