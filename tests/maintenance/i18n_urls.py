"""The maintenance test views under language prefixes (``/de/``), the default language unprefixed."""

from __future__ import annotations

from django.conf.urls.i18n import i18n_patterns
from django.urls import path

from tests.maintenance.urls import page

urlpatterns = i18n_patterns(path("", page), prefix_default_language=False)
