from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(template_name="login.html"), name="login"),
    path("-/deploykit/", include("django_deploykit.urls")),
    path("-/deploykit/console/", include("django_deploykit.console_urls")),
]
