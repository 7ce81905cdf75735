from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("ops/console/", include("django_deploykit.console_urls"))]
