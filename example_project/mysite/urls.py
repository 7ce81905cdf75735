from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from notes import views

urlpatterns = [
    path("", views.index, name="index"),
    path("admin/", admin.site.urls),
    path("-/deploykit/", include("django_deploykit.urls")),
    # The deploy console (docs/console.md): under the package's prefix, so it answers during maintenance.
    path("-/deploykit/console/", include("django_deploykit.console_urls")),
]
