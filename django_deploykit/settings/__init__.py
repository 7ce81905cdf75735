"""Settings helpers for a project's settings package.

Usage, in ``mysite/settings/__init__.py``::

    from django_deploykit.settings import dispatch

    dispatch(__name__)  # loads mysite.settings.production or mysite.settings.dev

and in ``mysite/settings/production.py``::

    from django_deploykit.settings import env

    DEBUG = env.bool("DEBUG", default=False)
    SECRET_KEY = env.secret("SECRET_KEY")
    DATABASES = {"default": env.database_url("DATABASE_URL")}
"""

from __future__ import annotations

from django_deploykit.settings.dispatcher import (
    CHOICE_SETTING,
    SettingsChoice,
    SettingsModeWarning,
    current_choice,
    dispatch,
    env,
)
from django_deploykit.settings.environment import NOTSET, DeployEnv, ValueSource
from django_deploykit.settings.safety import production_problems, secret_key_problem
from django_deploykit.settings.service_urls import parse_cache_url, parse_database_url

__all__ = [
    "CHOICE_SETTING",
    "NOTSET",
    "DeployEnv",
    "SettingsChoice",
    "SettingsModeWarning",
    "ValueSource",
    "current_choice",
    "dispatch",
    "env",
    "parse_cache_url",
    "parse_database_url",
    "production_problems",
    "secret_key_problem",
]
