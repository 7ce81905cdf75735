"""Include in the project's URLconf, e.g. ``path("-/deploykit/", include("django_deploykit.urls"))``."""

from __future__ import annotations

from django.urls import path

from django_deploykit import views

app_name = "django_deploykit"

urlpatterns = [
    path("revision/", views.revision, name="revision"),
]
