"""The project's tests: an in-memory database, whatever the environment says about production."""

from __future__ import annotations

from .base import *

DEBUG = False
SECRET_KEY = "example-project-tests-only"
ALLOWED_HOSTS = ["testserver"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
