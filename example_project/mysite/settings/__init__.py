"""Loads mysite.settings.production when PRODUCTION exists (even empty), else mysite.settings.dev."""

from __future__ import annotations

from django_deploykit.settings import dispatch

dispatch(__name__)
