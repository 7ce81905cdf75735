from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from notes.models import Note


def index(request: HttpRequest) -> HttpResponse:
    choice = getattr(settings, "DEPLOYKIT_SETTINGS_CHOICE", None) or {}
    return render(
        request,
        "notes/index.html",
        {
            "notes": Note.objects.all()[:20],
            "mode": choice.get("mode"),
            "slot": getattr(settings, "SLOT", None),
        },
    )
