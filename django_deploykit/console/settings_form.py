"""The console's settings page (edit right): notification targets and maintenance defaults, saved in the
deploy root (``deploy_root.runtime_settings``) so a deploy reads them while migrations run.

A saved webhook address is never shown again, not even to its editor: a target is listed by its name or its
host (``notifications.targets.address_label``), and replaced by removing it and adding it anew.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from django_deploykit.conf import conf
from django_deploykit.console import access, actions, audit
from django_deploykit.console.forms import ActionForm, printable_text
from django_deploykit.deploy.procedure import maintenance_options_error
from django_deploykit.deploy_root import runtime_settings
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.notifications import targets

Page = Callable[..., HttpResponse]


class TargetForm(ActionForm):
    name = forms.CharField(label="Name", required=False, max_length=targets.NAME_MAX)
    format = forms.ChoiceField(label="Format", choices=[(each, each) for each in targets.FORMATS])
    url = forms.CharField(label="Address", max_length=2000, widget=forms.PasswordInput(render_value=False))
    events = forms.MultipleChoiceField(
        label="Events",
        choices=[(each, each) for each in targets.EVENTS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    token_env = forms.CharField(label="Token variable (sentry)", required=False, max_length=100)
    projects = forms.CharField(label="Projects (sentry, comma-separated)", required=False, max_length=500)

    def entry(self) -> dict[str, Any]:
        data = self.cleaned_data
        entry: dict[str, Any] = {"url": data["url"].strip(), "format": data["format"]}
        for key in ("name", "token_env"):
            if data.get(key):
                entry[key] = data[key].strip()
        if data.get("events"):
            entry["events"] = list(data["events"])
        if data.get("projects"):
            entry["projects"] = [slug.strip() for slug in data["projects"].split(",") if slug.strip()]
        return entry

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            try:
                targets.parse_target(self.entry(), "The target")
            except targets.TargetError as exc:
                raise forms.ValidationError(str(exc)) from None
        return cleaned


class MaintenanceDefaultsForm(ActionForm):
    message = forms.CharField(label="Message", required=False, max_length=500)
    duration = forms.CharField(label="Window length", required=False, max_length=40)
    warn = forms.CharField(label="Banner before the start", required=False, max_length=40)

    def clean_message(self) -> str:
        return printable_text(self.cleaned_data.get("message", ""), "message")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        problem = maintenance_options_error(
            None,
            cleaned.get("duration") or None,
            cleaned.get("warn") or None,
            now=datetime.now(UTC),
            zone=timezone.get_default_timezone(),
        )
        if problem:
            raise forms.ValidationError(problem)
        return cleaned


def _labels(entries: list[dict[str, Any]]) -> list[dict[str, str]]:
    shown = []
    for entry in entries:
        url = str(entry.get("url", ""))
        shown.append(
            {
                "label": str(entry.get("name") or targets.address_label(url)),
                "format": str(entry.get("format", "?")),
                "events": ", ".join(entry.get("events") or targets.EVENTS),
            }
        )
    return shown


def handle(request: HttpRequest, root: DeployRoot, client: str, page: Page) -> HttpResponse:
    errors: list[str] = []
    try:
        saved = runtime_settings.read(root)
    except runtime_settings.RuntimeSettingsError as exc:
        return page(request, "settings.html", {"errors": [str(exc)], "broken": True}, status=503)
    target_form, defaults_form = TargetForm(), MaintenanceDefaultsForm(initial=saved.maintenance)
    if request.method == "POST":
        entry = actions.audited(root, request.user.get_username(), "settings", client)
        what = request.POST.get("what")
        if what == "add-target":
            target_form = TargetForm(request.POST)
            if target_form.is_valid():
                added = target_form.entry()
                saved.notifications.append(added)
                entry.details = {"added": _labels([added])[0]["label"]}
            else:
                errors = target_form.error_sentences()
        elif what == "remove-target":
            index = request.POST.get("index", "")
            if index.isdecimal() and int(index) < len(saved.notifications):
                removed = saved.notifications.pop(int(index))
                entry.details = {"removed": _labels([removed])[0]["label"]}
            else:
                errors = ["That target is not in the list any more; the page below is up to date."]
        elif what == "maintenance":
            defaults_form = MaintenanceDefaultsForm(request.POST)
            if defaults_form.is_valid():
                saved.maintenance = defaults_form.cleaned_fields()
                entry.details = dict(saved.maintenance)
            else:
                errors = defaults_form.error_sentences()
        else:
            errors = ["Unknown settings change."]
        if not errors:
            runtime_settings.write(root, saved)
            entry.result = "done"
        else:
            entry.result, entry.message = "refused", "; ".join(errors)
        audit.record(root, entry)
    return page(
        request,
        "settings.html",
        {
            "errors": errors,
            "saved_targets": _labels(saved.notifications),
            "setting_targets": _labels([t for t in conf.NOTIFICATIONS if isinstance(t, dict)]),
            "target_form": target_form,
            "defaults_form": defaults_form,
            "can_edit": access.has_right(request.user, "edit"),
        },
        status=400 if errors else 200,
    )
