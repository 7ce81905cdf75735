from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from notes import views

urlpatterns = [
    path("", views.index, name="index"),
    path("admin/", admin.site.urls),
    path("-/deploykit/", include("django_deploykit.urls")),
]
