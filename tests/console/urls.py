from __future__ import annotations

from django.urls import include, path

urlpatterns = [
    path("-/deploykit/", include("django_deploykit.urls")),
    path("-/deploykit/console/", include("django_deploykit.console_urls")),
]
