"""Settings shared by production and development."""

from __future__ import annotations

from pathlib import Path

from django_deploykit import slots
from django_deploykit.settings import env

BASE_DIR = Path(__file__).resolve().parents[2]
DEPLOY_ROOT = slots.find_deploy_root(BASE_DIR)
SLOT = slots.current_slot(BASE_DIR, DEPLOY_ROOT)
# Outside a deploy root this is the project folder itself.
SHARED_DIR = slots.shared_dir(DEPLOY_ROOT, BASE_DIR)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_deploykit",
    "notes",
]

MIDDLEWARE = [
    # First: an announced window adds its banner, an active one answers 503 without the database.
    "django_deploykit.maintenance.middleware.MaintenanceMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mysite.urls"
WSGI_APPLICATION = "mysite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Each slot keeps its own cache keys (mysite_blue, mysite_green), so a swap makes the new
# code's templates live without flushing the cache.
CACHES = slots.with_slot_key_prefixes(
    {"default": env.cache_url("CACHE_URL", default="locmemcache://")},
    base_prefix="mysite",
    slot=SLOT,
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Both slots collect into one shared, add-only folder, each with a manifest of its own: pages of
# either slot find their hashed files before, during and after a swap.
STATIC_ROOT = SHARED_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django_deploykit.deploy_pull.storage.SlotManifestStaticFilesStorage"},
}
MEDIA_URL = "media/"
MEDIA_ROOT = SHARED_DIR / "media"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-deploykit, configured from the environment or the deploy root's shared .env.
# The revision endpoint reports these packages' versions, so a swap can be checked end to end.
DEPLOYKIT_REPORT_PACKAGES = env.list("DEPLOYKIT_REPORT_PACKAGES", default="django,django-deploykit")
DEPLOYKIT_RELOAD = env.json("DEPLOYKIT_RELOAD", default={})
DEPLOYKIT_LIVE_URL = env.str("DEPLOYKIT_LIVE_URL", default=None)
# Lets a client behind a proxy (nginx sends X-Forwarded-For) read the revision endpoint.
DEPLOYKIT_REVISION_TOKEN = env.str("DEPLOYKIT_REVISION_TOKEN", default=None)
DEPLOYKIT_STAGE_URL = env.str("DEPLOYKIT_STAGE_URL", default=None)
DEPLOYKIT_STAGE_HEALTH_URL = env.str("DEPLOYKIT_STAGE_HEALTH_URL", default=None)
# deploy_pull runs the tests with these settings (never the production ones) when set.
DEPLOYKIT_TEST_SETTINGS = env.str("DEPLOYKIT_TEST_SETTINGS", default=None)
DEPLOYKIT_DEPLOY_PIPELINE = env.json("DEPLOYKIT_DEPLOY_PIPELINE", default=None)
# What 'manage.py server_config' renders (systemd, gunicorn or uWSGI, nginx or Apache, logrotate).
DEPLOYKIT_SERVERS = env.json("DEPLOYKIT_SERVERS", default={})
DEPLOYKIT_CONSOLE_RUNNER = env.str("DEPLOYKIT_CONSOLE_RUNNER", default="detached")
DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES = env.list("DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES", default=[])
