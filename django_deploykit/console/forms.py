"""The console's action forms: each checks what the command would refuse before anything starts, says it in
the command's own sentence, and turns the cleaned values into the command's arguments.

A form's values reach a command only as separate arguments (never a shell string), and only after the same
checks the command makes: ``git.ref_error`` for a ref, the maintenance options through
``deploy.procedure.maintenance_options_error``. Text that is not printable (a control character in a
message) is refused here, not stored.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Final

from django import forms
from django.utils import timezone

from django_deploykit.deploy.procedure import maintenance_options_error
from django_deploykit.deploy_root.git import ref_error

REVISION_RE: Final = re.compile(r"^[0-9a-f]{7,40}$")
STAGE_NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
TEXT_LIMIT: Final = 500


def printable_text(value: str, what: str) -> str:
    if any(not (char.isprintable() or char == " ") for char in value):
        raise forms.ValidationError(f"The {what} holds a control character; write it on one line.")
    return value


class ActionForm(forms.Form):
    """What every action form gives the view: sentences for refusals, fields for the audit and the
    confirmation page, the command's arguments and a description of what will happen."""

    def error_sentences(self) -> list[str]:
        sentences: list[str] = []
        for field, errors in self.errors.items():
            label = "" if field == "__all__" else f"{self.fields[field].label or field}: "
            sentences.extend(f"{label}{error}" for error in errors)
        return sentences

    def cleaned_fields(self) -> dict[str, str]:
        """The cleaned values as strings, the unset ones left out (the confirmation page posts them again)."""
        fields = {}
        for name, value in self.cleaned_data.items():
            if value in (None, "", False):
                continue
            fields[name] = "on" if value is True else str(value)
        return fields

    def command_args(self) -> list[str]:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


class MaintenanceFields(ActionForm):
    duration = forms.CharField(label="Window length", required=False, max_length=40, help_text="such as 30m")
    warn = forms.CharField(label="Banner before the start", required=False, max_length=40)
    message = forms.CharField(label="Message", required=False, max_length=TEXT_LIMIT)

    def clean_message(self) -> str:
        return printable_text(self.cleaned_data.get("message", ""), "message")

    def _window_problem(self, at: str | None) -> str | None:
        return maintenance_options_error(
            at,
            self.cleaned_data.get("duration") or None,
            self.cleaned_data.get("warn") or None,
            now=datetime.now(UTC),
            zone=timezone.get_default_timezone(),
        )

    def _window_args(self, *, at: str | None = None, warn: bool = True) -> list[str]:
        args = []
        for flag, value in (
            ("--at", at),
            ("--warn", self.cleaned_data.get("warn") if warn else None),
            ("--for", self.cleaned_data.get("duration")),
            ("--message", self.cleaned_data.get("message")),
        ):
            if value:
                args.extend([flag, value])
        return args


class DeployForm(MaintenanceFields):
    ref = forms.CharField(label="Ref", max_length=200, help_text="a branch, tag or commit")
    maintenance = forms.BooleanField(label="Maintenance window around the deploy", required=False)
    # After a failure past the swap: the stage the deploy's advice says to resume at (deploy checks it is one).
    resume_from = forms.RegexField(label="Resume from", regex=STAGE_NAME_RE, required=False, max_length=100)

    def clean_ref(self) -> str:
        ref = str(self.cleaned_data["ref"]).strip()
        problem = ref_error(ref, "The ref")
        if problem:
            raise forms.ValidationError(problem)
        return ref

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("maintenance"):
            problem = self._window_problem(None)
            if problem:
                raise forms.ValidationError(problem)
        elif any(cleaned.get(name) for name in ("duration", "warn", "message")):
            raise forms.ValidationError(
                "The window's length, banner and message go with the maintenance window."
            )
        return cleaned

    def command_args(self) -> list[str]:
        args = ["deploy", "--ref", self.cleaned_data["ref"], "--yes"]
        if self.cleaned_data.get("resume_from"):
            args.extend(["--resume-from", self.cleaned_data["resume_from"]])
        if self.cleaned_data.get("maintenance"):
            args.extend(["--maintenance", *self._window_args()])
        return args

    def describe(self) -> str:
        window = " with a maintenance window" if self.cleaned_data.get("maintenance") else ""
        if self.cleaned_data.get("resume_from"):
            return f"Resume the deploy of {self.cleaned_data['ref']} at its {self.cleaned_data['resume_from']} stage{window}."
        return f"Deploy {self.cleaned_data['ref']}{window}: pull into the stage slot, then swap it live."


class RollbackForm(ActionForm):
    mode = forms.ChoiceField(
        label="How",
        choices=[
            ("swap-back", "Swap back to the slot that was live before"),
            ("redeploy", "Redeploy a recorded release"),
        ],
    )
    revision = forms.CharField(label="Revision", required=False, max_length=40)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("mode") == "redeploy":
            revision = str(cleaned.get("revision") or "").strip().lower()
            if not REVISION_RE.match(revision):
                raise forms.ValidationError(
                    "Choose the recorded release to redeploy (a commit of 7 to 40 hex digits)."
                )
            cleaned["revision"] = revision
        else:
            cleaned["revision"] = ""
        return cleaned

    def command_args(self) -> list[str]:
        if self.cleaned_data["mode"] == "redeploy":
            # An older commit is not a fast-forward of the stage slot: that is what a rollback is.
            return ["deploy", "--ref", self.cleaned_data["revision"], "--allow-non-fast-forward", "--yes"]
        return ["swap_live", "--rollback"]

    def describe(self) -> str:
        if self.cleaned_data["mode"] == "redeploy":
            return f"Redeploy release {self.cleaned_data['revision'][:12]} through the whole deploy."
        return "Swap back: make the slot that was live before the last swap live again."


class MaintenanceForm(MaintenanceFields):
    action = forms.ChoiceField(
        label="Action",
        choices=[("announce", "Announce a window"), ("start", "Start now"), ("end", "End the window")],
    )
    at = forms.CharField(
        label="Start (announce)", required=False, max_length=40, help_text="HH:MM or ISO time"
    )

    def clean_at(self) -> str:
        return printable_text(self.cleaned_data.get("at", ""), "start")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        action = cleaned.get("action")
        if action == "announce" and not cleaned.get("at"):
            raise forms.ValidationError("Announcing a window needs its start, such as 14:00.")
        if action in ("announce", "start"):
            problem = self._window_problem(cleaned.get("at") if action == "announce" else None)
            if problem:
                raise forms.ValidationError(problem)
        return cleaned

    def command_args(self) -> list[str]:
        action = self.cleaned_data["action"]
        if action == "end":
            return ["off"]
        if action == "start":
            # Without --no-wait: "done" means every worker answers 503 (within a second or so).
            return ["on", *self._window_args(warn=False)]
        return ["on", *self._window_args(at=self.cleaned_data["at"])]

    def describe(self) -> str:
        action = self.cleaned_data["action"]
        if action == "end":
            return "End the maintenance window: the site answers again."
        if action == "start":
            return "Start a maintenance window now: visitors get the 503 page."
        return f"Announce a maintenance window from {self.cleaned_data['at']}: the banner shows before it."


class CheckForm(ActionForm):
    link = forms.ChoiceField(label="Slot", choices=[("live", "live"), ("stage", "stage")])

    def command_args(self) -> list[str]:
        return ["deploy_check", "--slot", self.cleaned_data["link"]]

    def describe(self) -> str:
        return (
            f"Run deploy_check on the {self.cleaned_data['link']} slot; its findings replace the last ones."
        )


# The actions that run a command, by the name the audit and the queue give them; those that make a recorded
# run get a run id the console follows.
COMMAND_FORMS: Final[dict[str, type[ActionForm]]] = {
    "deploy": DeployForm,
    "rollback": RollbackForm,
    "deploy_check": CheckForm,
}
RECORDED: Final = frozenset({"deploy", "rollback"})
