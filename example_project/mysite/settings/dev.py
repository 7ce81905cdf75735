"""Development: DEBUG on, SQLite beside the project unless DATABASE_URL says otherwise."""

from __future__ import annotations

from .base import *

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.secret("SECRET_KEY", default="django-insecure-example-project-development-key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default="localhost,127.0.0.1,[::1],testserver")
DATABASES = {"default": env.database_url("DATABASE_URL", default=f"sqlite:///{SHARED_DIR / 'db.sqlite3'}")}
