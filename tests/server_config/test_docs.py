"""docs/servers.md and docs/servers/*.md follow the code: the settings example renders, the table lists
every key, and each install block is what server_config prints for that example."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.server_config import advice
from django_deploykit.server_config.plan import KINDS, KNOWN_KEYS, build_plan
from django_deploykit.server_config.render import render
from tests.deployment import REPO_ROOT

DOCS = REPO_ROOT / "docs"
DOC_ROOT = DeployRoot(Path("/srv/mysite"))


def marked_blocks(text: str, marker: str) -> dict[str, str]:
    pattern = re.compile(rf"<!-- servers: {marker}\s*(\w*) -->\n```\w*\n(.*?)```", re.DOTALL)
    return {argument: body for argument, body in pattern.findall(text)}


def documented_settings() -> dict[str, Any]:
    (block,) = marked_blocks((DOCS / "servers.md").read_text(encoding="utf-8"), "settings").values()
    namespace: dict[str, Any] = {}
    exec(textwrap.dedent(block), namespace)  # noqa: S102 (the docs' own example)
    return namespace


def settings(**overrides: Any) -> SimpleNamespace:
    values = {
        "WSGI_APPLICATION": "mysite.wsgi.application",
        "STATIC_URL": "/static/",
        "STATIC_ROOT": "/srv/mysite/shared/static",
        "MEDIA_URL": "/media/",
        "MEDIA_ROOT": "/srv/mysite/shared/media",
        **overrides,
    }
    return SimpleNamespace(**values)


def install_steps(app_server: str) -> list[str]:
    example = documented_settings()
    config = {**example["DEPLOYKIT_SERVERS"], "app_server": app_server}
    if app_server == "mod_wsgi":
        config["web_server"] = "apache"
    plan = build_plan(
        DOC_ROOT,
        Path("mysite"),
        config,
        settings(DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES=example["DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES"]),
        "PRODUCTION",
        None,
        None,
    )
    assert advice.warnings(plan, {}) == []
    return advice.install_steps(plan, render(plan, plan.kinds()))


def test_the_settings_table_lists_every_key() -> None:
    text = (DOCS / "servers.md").read_text(encoding="utf-8")
    table = text.split("| key | default | meaning |")[1].split("\n\n")[0]
    documented = {
        key
        for cell in re.findall(r"^\| ([^|]+) \|", table, re.MULTILINE)
        for key in re.findall(r"`(\w+)`", cell)
    }
    assert documented == KNOWN_KEYS


def test_every_kind_has_its_page() -> None:
    assert {path.stem for path in (DOCS / "servers").glob("*.md")} == set(KINDS)


@pytest.mark.parametrize(
    ("page", "app_server"),
    [("systemd", "gunicorn"), ("nginx", "gunicorn"), ("logrotate", "gunicorn"), ("apache", "mod_wsgi")],
)
def test_each_install_block_is_what_the_command_prints(page: str, app_server: str) -> None:
    (block,) = marked_blocks(
        (DOCS / "servers" / f"{page}.md").read_text(encoding="utf-8"), "install"
    ).values()
    steps = install_steps(app_server)
    lines = block.strip().splitlines()
    # The block holds this kind's steps, in the order the command prints them.
    start = steps.index(lines[0])
    assert steps[start : start + len(lines)] == lines
