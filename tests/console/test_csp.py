"""The console's pages work under a strict Content-Security-Policy: no inline style or handler attributes,
and the one <style> and <script> of a page carry the request's nonce."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

import django_deploykit
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.deploy_root.run import Run
from tests.console.conftest import CONSOLE
from tests.console.csp import NONCE

TEMPLATES = Path(django_deploykit.__file__).parent / "templates" / "django_deploykit" / "console"


def test_no_template_has_an_inline_style_or_handler_attribute() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not re.search(r"\sstyle=", text), template.name
        assert not re.search(r"\son[a-z]+=", text), template.name
        for tag in re.findall(r"<(?:script|style)\b[^>]*>", text):
            assert "csp_nonce" in tag, f"{template.name}: {tag}"


@pytest.mark.django_db
def test_each_page_carries_the_requests_nonce(
    root: DeployRoot, client_for: Callable[..., Client], settings: Any
) -> None:
    settings.MIDDLEWARE = ["tests.console.csp.StrictCspMiddleware", *settings.MIDDLEWARE]
    run = Run(root, "deploy")
    run.stages(1, lambda line: None)
    client = client_for("push")
    for path in ("", "history/", f"runs/{run.id}/", "audit/", "tokens/", "login/"):
        response = client.get(CONSOLE + path, follow=True)
        page = response.content.decode()
        tags = re.findall(r"<(?:script|style)\b[^>]*>", page)
        assert tags, path
        assert all(f'nonce="{NONCE}"' in tag for tag in tags), (path, tags)
