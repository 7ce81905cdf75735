"""Render a ``ServerPlan`` into file contents: pure text, nothing read from or written to disk.

The templates are the package's own (``templates/django_deploykit/servers/``), rendered by an engine of their
own rather than the project's: the same settings and package version must render the same bytes, or the
check mode would report drift that nobody made.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.template import Context, Engine

from django_deploykit.deploy_root.layout import MAINTENANCE_PAGE_NAME
from django_deploykit.server_config.plan import LinkServer, ServerPlan

HEADER = (
    "Rendered by 'manage.py server_config' from the project's settings; edit the settings, not this file."
)
STAGE_ROBOTS = "User-agent: *\nDisallow: /\n"
_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "django_deploykit" / "servers"


@dataclass(frozen=True)
class RenderedFile:
    kind: str
    name: str  # inside the deploy root's servers/ folder
    content: str


@cache
def _engine() -> Engine:
    return Engine(dirs=[str(_TEMPLATES)], autoescape=False, debug=False, string_if_invalid="")


def _render(template: str, **context: Any) -> str:
    return _engine().get_template(template).render(Context({"header": HEADER, **context}, autoescape=False))


def render(plan: ServerPlan, kinds: tuple[str, ...]) -> list[RenderedFile]:
    """Every file of ``kinds``, in a stable order."""
    files: list[RenderedFile] = []
    for kind in kinds:
        files += _RENDERERS[kind](plan)
    return files


def config_file_name(plan: ServerPlan, server: LinkServer) -> str:
    if plan.app_server == "uwsgi":
        return f"uwsgi-{server.link}.ini"
    return f"gunicorn-{server.link}.conf.py"


def _gunicorn(plan: ServerPlan) -> list[RenderedFile]:
    return [
        RenderedFile(
            "gunicorn",
            config_file_name(plan, server),
            _render("gunicorn.conf.py.txt", plan=plan, server=server),
        )
        for server in plan.servers
    ]


def _uwsgi(plan: ServerPlan) -> list[RenderedFile]:
    return [
        RenderedFile(
            "uwsgi", config_file_name(plan, server), _render("uwsgi.ini.txt", plan=plan, server=server)
        )
        for server in plan.servers
    ]


def _systemd(plan: ServerPlan) -> list[RenderedFile]:
    files = []
    for server in plan.servers:
        config_file = plan.root.servers_dir / config_file_name(plan, server)
        files.append(
            RenderedFile(
                "systemd",
                f"{plan.name}-{server.link}.service",
                _render("app.service.txt", plan=plan, server=server, config_file=config_file),
            )
        )
        if plan.app_server == "gunicorn":
            files.append(
                RenderedFile(
                    "systemd",
                    f"{plan.name}-{server.link}.socket",
                    _render("app.socket.txt", plan=plan, server=server),
                )
            )
    if plan.console_runner_user is not None:
        # The deploy console's queue, run by a service of its own as the deploy user (console/runner.py).
        files += [
            RenderedFile("systemd", f"{plan.name}-console.path", _render("console.path.txt", plan=plan)),
            RenderedFile(
                "systemd", f"{plan.name}-console.service", _render("console.service.txt", plan=plan)
            ),
        ]
    return files


def _logrotate(plan: ServerPlan) -> list[RenderedFile]:
    return [RenderedFile("logrotate", f"logrotate-{plan.name}", _render("logrotate.txt", plan=plan))]


def _sites(plan: ServerPlan) -> list[dict[str, Any]]:
    stage_names = plan.stage_server_names or plan.server_names
    return [
        {
            "link": "live",
            "server": plan.live,
            "listen": plan.listen,
            "server_names": plan.server_names,
            "server_aliases": plan.server_names[1:],
            "robots_txt": plan.robots_txt,
        },
        {
            "link": "stage",
            "server": plan.stage,
            "listen": plan.stage_listen,
            "server_names": stage_names,
            "server_aliases": stage_names[1:],
            # The stage site is for the team: search engines must never index it.
            "robots_txt": STAGE_ROBOTS,
        },
    ]


def _nginx(plan: ServerPlan) -> list[RenderedFile]:
    return [
        RenderedFile(
            "nginx", f"nginx-{plan.name}.conf", _render("nginx.conf.txt", plan=plan, sites=_sites(plan))
        )
    ]


def _apache(plan: ServerPlan) -> list[RenderedFile]:
    sites = _sites(plan)
    for site in sites:
        site["script_name"] = f"{site['link']}.wsgi"
        site["script"] = plan.root.servers_dir / site["script_name"]
    files = [
        RenderedFile(
            "apache",
            f"apache-{plan.name}.conf",
            _render("apache.conf.txt", plan=plan, sites=sites, maintenance_page_name=MAINTENANCE_PAGE_NAME),
        )
    ]
    if plan.app_server == "mod_wsgi":
        files += [
            RenderedFile("apache", f"{server.link}.wsgi", _render("wsgi.txt", plan=plan, server=server))
            for server in plan.servers
        ]
    for site in sites:
        if site["robots_txt"]:
            files.append(
                RenderedFile("apache", f"robots-{site['link']}.txt", site["robots_txt"].rstrip("\n") + "\n")
            )
    return files


_RENDERERS = {
    "gunicorn": _gunicorn,
    "uwsgi": _uwsgi,
    "systemd": _systemd,
    "logrotate": _logrotate,
    "nginx": _nginx,
    "apache": _apache,
}
