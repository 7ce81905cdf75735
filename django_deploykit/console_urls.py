"""The deploy console. Include it under the package's endpoint prefix, beside its own URLs, so it answers
during a maintenance window (docs/console.md)::

    path("-/deploykit/console/", include("django_deploykit.console_urls")),
"""

from __future__ import annotations

from django.urls import path

from django_deploykit import console_views

app_name = console_views.NAMESPACE

urlpatterns = [
    path("", console_views.overview_page, name="overview"),
    path("login/", console_views.login_page, name="login"),
    path("logout/", console_views.logout_page, name="logout"),
    path("history/", console_views.history_list, name="history"),
    path("runs/<str:run_id>/", console_views.run_page, name="run"),
    path("runs/<str:run_id>/poll/", console_views.run_poll, name="run-poll"),
    path("audit/", console_views.audit_page, name="audit"),
    path("deploy/", console_views.deploy_action, name="deploy"),
    path("rollback/", console_views.rollback_action, name="rollback"),
    path("maintenance/", console_views.maintenance_action, name="maintenance"),
    path("check/", console_views.check_action, name="check"),
    path("settings/", console_views.settings_page, name="settings"),
    path("tokens/", console_views.tokens_page, name="tokens"),
    path("api/deploys/", console_views.api_deploy, name="api-deploy"),
    path("api/runs/<str:run_id>/", console_views.api_run, name="api-run"),
]
