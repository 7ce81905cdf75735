"""What the rendered files say, decided once from ``DEPLOYKIT_SERVERS``, the settings and the deploy root.

Every file kind reads the same ``ServerPlan``, so the nginx upstream and the gunicorn bind, the uWSGI touch
file and the reload adapter, the unit's user and logrotate's ``create`` line cannot disagree. Building the
plan is the only place that reads settings; it raises ``ServerConfigError`` with a sentence for anything a
file would need and does not have, before any file is rendered.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from django_deploykit.deploy_root.layout import LIVE_LINK, STAGE_LINK, DeployRoot

AppServer = Literal["gunicorn", "uwsgi", "mod_wsgi"]
WebServer = Literal["nginx", "apache"]
Link = Literal["live", "stage"]

APP_SERVERS: tuple[AppServer, ...] = ("gunicorn", "uwsgi", "mod_wsgi")
WEB_SERVERS: tuple[WebServer, ...] = ("nginx", "apache")
# Each kind is a group of files; which kinds a project gets follows from its app and web server.
KINDS = ("systemd", "gunicorn", "uwsgi", "nginx", "apache", "logrotate")
KNOWN_KEYS = frozenset(
    {
        "name",
        "app_server",
        "web_server",
        "user",
        "group",
        "server_name",
        "stage_server_name",
        "listen",
        "stage_listen",
        "live_bind",
        "stage_bind",
        "workers",
        "timeout",
        "robots_txt",
        "client_max_body_size",
        "install",
        "deploy_user",
    }
)
_DEFAULT_BINDS = {LIVE_LINK: "127.0.0.1:8000", STAGE_LINK: "127.0.0.1:8001"}
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
# POSIX user and group names as useradd accepts them.
_ACCOUNT_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}\$?$")
_HOST_RE = re.compile(r"^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$")
_SIZE_RE = re.compile(r"^[0-9]{1,6}[kKmMgG]?$")


class ServerConfigError(Exception):
    """A setting that a rendered file needs is missing or wrong; the message says which and how to fix it."""


@dataclass(frozen=True)
class LinkServer:
    """The app server behind one link: where it listens and its files in ``run/`` and ``shared/log/``."""

    link: Link
    bind: str
    host: str
    port: int
    pidfile: Path
    control_socket: Path
    reload_file: Path
    fifo: Path
    log_reopen_file: Path
    log_files: tuple[Path, ...]
    code_dir: Path  # <root>/<link>/<project subdir>, through the link
    venv: Path  # <root>/<link>/.venv, through the link


@dataclass(frozen=True)
class ServerPlan:
    name: str
    root: DeployRoot
    app_server: AppServer
    web_server: WebServer | None
    user: str
    group: str
    server_names: tuple[str, ...]
    stage_server_names: tuple[str, ...]
    listen: int
    stage_listen: int
    workers: int
    timeout: int
    robots_txt: str | None
    client_max_body_size: str
    production_variable: str
    wsgi_module: str
    wsgi_callable: str
    static_url: str | None
    static_root: Path | None
    media_url: str | None
    media_root: Path | None
    trusted_proxies: tuple[str, ...]
    live: LinkServer
    stage: LinkServer
    install: Mapping[str, Path]
    # The user deploys run as, for the deploy console's runner units (DEPLOYKIT_CONSOLE_RUNNER = "queue"):
    # it restarts the servers through systemctl, which the app servers' user may not. None: no runner.
    console_runner_user: str | None = None

    @property
    def servers(self) -> tuple[LinkServer, LinkServer]:
        return (self.live, self.stage)

    def kinds(self) -> tuple[str, ...]:
        """The file kinds this project needs, in the order they are rendered."""
        kinds: list[str] = []
        if self.app_server in ("gunicorn", "uwsgi"):
            kinds += [self.app_server, "systemd", "logrotate"]
        if self.web_server:
            kinds.append(self.web_server)
        return tuple(kinds)

    def expected_reload(self) -> dict[str, dict[str, Any]]:
        """The ``DEPLOYKIT_RELOAD`` that reloads the servers these files describe."""
        root = self.root.path
        expected: dict[str, dict[str, Any]] = {}
        for server in self.servers:
            if self.app_server == "uwsgi":
                expected[server.link] = {
                    "adapter": "touch",
                    "path": str(server.reload_file.relative_to(root)),
                }
            elif self.app_server == "mod_wsgi":
                script = self.root.servers_dir / f"{server.link}.wsgi"
                expected[server.link] = {"adapter": "touch", "path": str(script.relative_to(root))}
            else:
                # Under systemd, a restart through the socket unit: the socket stays open, so connections
                # wait in its backlog while the new gunicorn boots from the other slot (gunicorn's own
                # USR2 re-exec would be killed by systemd with the old master).
                expected[server.link] = {
                    "adapter": "systemctl",
                    "unit": f"{self.name}-{server.link}.service",
                    "action": "restart",
                }
        return expected

    def loopback_upstreams(self) -> bool:
        return any(
            ipaddress.ip_address(server.host).is_loopback for server in self.servers if _is_ip(server.host)
        )


def build_plan(
    root: DeployRoot,
    project_subdir: Path,
    config: Mapping[str, Any],
    settings: Any,
    production_variable: str,
    live_url: str | None,
    stage_url: str | None,
) -> ServerPlan:
    """The plan for ``root``, from ``DEPLOYKIT_SERVERS`` (``config``) and the project's ``settings``."""
    if not isinstance(config, Mapping):
        raise ServerConfigError("DEPLOYKIT_SERVERS must be a dict, such as {'user': 'www-data', ...}.")
    unknown = sorted(set(config) - KNOWN_KEYS)
    if unknown:
        raise ServerConfigError(
            f"DEPLOYKIT_SERVERS has unknown key{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
            f"the known ones are {', '.join(sorted(KNOWN_KEYS))}."
        )
    wsgi_module, wsgi_callable = _wsgi_application(settings)
    app_server = _choice(config, "app_server", APP_SERVERS, "gunicorn")
    web_default: str | None = "apache" if app_server == "mod_wsgi" else "nginx"
    web_server = config.get("web_server", web_default)
    if web_server is not None and web_server not in WEB_SERVERS:
        raise ServerConfigError(
            f"DEPLOYKIT_SERVERS['web_server'] is {web_server!r}; use 'nginx', 'apache' or None (no web server "
            "file)."
        )
    if app_server == "mod_wsgi" and web_server != "apache":
        raise ServerConfigError(
            "mod_wsgi runs inside Apache: with app_server 'mod_wsgi' set web_server 'apache'."
        )
    if web_server == "apache" and app_server != "mod_wsgi":
        raise ServerConfigError(
            "The Apache file is rendered for mod_wsgi: with app_server 'gunicorn' or 'uwsgi' use web_server 'nginx' "
            "(or None, and proxy to the app servers yourself)."
        )
    name = config.get("name", wsgi_module.split(".")[0])
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ServerConfigError(
            f"DEPLOYKIT_SERVERS['name'] is {name!r}; it names units, upstreams and files, so it must be lower-case "
            "letters, digits, '-' and '_' (at most 64)."
        )
    user = _account(config, "user", None)
    group = _account(config, "group", user)
    needs_web_names = web_server is not None
    server_names = _host_names(config, "server_name", required=needs_web_names)
    stage_server_names = _host_names(config, "stage_server_name", required=False)
    listen = _port(config, "listen", 80)
    stage_listen = _port(config, "stage_listen", listen if stage_server_names else 8080)
    if stage_listen == listen and not stage_server_names and needs_web_names:
        raise ServerConfigError(
            "The stage site needs a name or a port of its own: set DEPLOYKIT_SERVERS['stage_server_name'] (such as "
            "'stage.example.org') or a 'stage_listen' port other than 'listen'."
        )
    binds = {
        LIVE_LINK: _bind(config, "live_bind", live_url, LIVE_LINK),
        STAGE_LINK: _bind(config, "stage_bind", stage_url, STAGE_LINK),
    }
    if app_server != "mod_wsgi" and binds[LIVE_LINK] == binds[STAGE_LINK]:
        raise ServerConfigError(f"The live and stage app servers cannot both listen on {binds[LIVE_LINK]}.")
    static_url, static_root = _served_folder(settings, "STATIC", root)
    media_url, media_root = _served_folder(settings, "MEDIA", root)
    robots_txt = config.get("robots_txt")
    if robots_txt is not None and (not isinstance(robots_txt, str) or any(c in robots_txt for c in "'\\$")):
        raise ServerConfigError(
            "DEPLOYKIT_SERVERS['robots_txt'] must be the text of robots.txt, without quotes, backslashes or '$'."
        )
    body_size = str(config.get("client_max_body_size", "10m"))
    if not _SIZE_RE.match(body_size):
        raise ServerConfigError(
            f"DEPLOYKIT_SERVERS['client_max_body_size'] is {body_size!r}; write a size such as '10m' or '512k'."
        )
    return ServerPlan(
        name=name,
        root=root,
        app_server=app_server,
        web_server=web_server,
        user=user,
        group=group,
        server_names=server_names,
        stage_server_names=stage_server_names,
        listen=listen,
        stage_listen=stage_listen,
        workers=_positive(config, "workers", 3, 512),
        timeout=_positive(config, "timeout", 30, 3600),
        robots_txt=robots_txt,
        client_max_body_size=body_size,
        production_variable=production_variable,
        wsgi_module=wsgi_module,
        wsgi_callable=wsgi_callable,
        static_url=static_url,
        static_root=static_root,
        media_url=media_url,
        media_root=media_root,
        trusted_proxies=tuple(
            str(cidr) for cidr in getattr(settings, "DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES", ())
        ),
        live=_link_server(root, project_subdir, "live", binds[LIVE_LINK]),
        stage=_link_server(root, project_subdir, "stage", binds[STAGE_LINK]),
        install=_install(config),
        console_runner_user=(
            _account(config, "deploy_user", "root")
            if getattr(settings, "DEPLOYKIT_CONSOLE_RUNNER", "detached") == "queue"
            else None
        ),
    )


def _link_server(root: DeployRoot, subdir: Path, link: Link, bind: str) -> LinkServer:
    host, port = _split_bind(bind)
    run = root.run_dir
    logs = root.server_logs_dir
    through_link = root.path / link
    return LinkServer(
        link=link,
        bind=bind,
        host=host,
        port=port,
        pidfile=run / f"{link}.pid",
        control_socket=run / f"{link}.ctl",
        reload_file=run / f"{link}.reload",
        fifo=run / f"{link}.fifo",
        log_reopen_file=run / f"{link}.logreopen",
        log_files=(logs / f"{link}.access.log", logs / f"{link}.error.log"),
        code_dir=through_link / subdir if subdir.parts else through_link,
        venv=through_link / ".venv",
    )


def _wsgi_application(settings: Any) -> tuple[str, str]:
    dotted = getattr(settings, "WSGI_APPLICATION", None)
    if not isinstance(dotted, str) or dotted.count(".") < 1:
        raise ServerConfigError(
            "WSGI_APPLICATION is not set; the app servers need it (such as 'mysite.wsgi.application')."
        )
    module, _, callable_name = dotted.rpartition(".")
    if not all(part.isidentifier() for part in (*module.split("."), callable_name)):
        raise ServerConfigError(f"WSGI_APPLICATION {dotted!r} is not a dotted Python path.")
    return module, callable_name


def _choice(config: Mapping[str, Any], key: str, choices: Sequence[str], default: str) -> Any:
    value = config.get(key, default)
    if value not in choices:
        raise ServerConfigError(
            f"DEPLOYKIT_SERVERS[{key!r}] is {value!r}, which is not a server kind this package renders; use one of "
            f"{', '.join(map(repr, choices))}."
        )
    return value


def _account(config: Mapping[str, Any], key: str, default: str | None) -> str:
    value = config.get(key, default)
    if value is None:
        raise ServerConfigError(
            f"DEPLOYKIT_SERVERS has no {key!r}: the system user the app servers run as, such as 'www-data'. It must "
            "own the deploy root's shared/ and run/ folders."
        )
    if not isinstance(value, str) or not _ACCOUNT_RE.match(value):
        raise ServerConfigError(
            f"DEPLOYKIT_SERVERS[{key!r}] is {value!r}, which is not a valid user or group name."
        )
    return value


def _host_names(config: Mapping[str, Any], key: str, *, required: bool) -> tuple[str, ...]:
    value = config.get(key)
    if value is None:
        if required:
            raise ServerConfigError(
                f"DEPLOYKIT_SERVERS has no {key!r}: the host name(s) the public site answers to, such as "
                "'www.example.org' (the web server's file needs it)."
            )
        return ()
    names = (value,) if isinstance(value, str) else tuple(value) if isinstance(value, list | tuple) else None
    if not names or not all(
        isinstance(name, str) and _HOST_RE.match(name) and ".." not in name for name in names
    ):
        raise ServerConfigError(
            f"DEPLOYKIT_SERVERS[{key!r}] is {value!r}; write a host name or a list of them (letters, digits, '.', "
            "'-', a leading '*.')."
        )
    return names


def _port(config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ServerConfigError(
            f"DEPLOYKIT_SERVERS[{key!r}] is {value!r}; a port is a whole number from 1 to 65535."
        )
    return value


def _positive(config: Mapping[str, Any], key: str, default: int, largest: int) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= largest:
        raise ServerConfigError(
            f"DEPLOYKIT_SERVERS[{key!r}] is {value!r}; use a whole number from 1 to {largest}."
        )
    return value


def _bind(config: Mapping[str, Any], key: str, url: str | None, link: str) -> str:
    value = config.get(key)
    if value is None and url:
        # The address the swap verifies through is the one the server listens on.
        parts = urlsplit(url)
        if parts.hostname and parts.port:
            value = f"{parts.hostname}:{parts.port}"
    if value is None:
        value = _DEFAULT_BINDS[link]
    if not isinstance(value, str):
        raise ServerConfigError(
            f"DEPLOYKIT_SERVERS[{key!r}] is {value!r}; write HOST:PORT, such as 127.0.0.1:8000."
        )
    _split_bind(value, key)
    return value


def _split_bind(bind: str, key: str = "live_bind") -> tuple[str, int]:
    host, _, port = bind.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ServerConfigError(
            f"DEPLOYKIT_SERVERS[{key!r}] is {bind!r}; write HOST:PORT, such as 127.0.0.1:8000."
        )
    if not (_is_ip(host) or _HOST_RE.match(host)):
        raise ServerConfigError(
            f"DEPLOYKIT_SERVERS[{key!r}] is {bind!r}; {host!r} is not an address or host name."
        )
    return host, int(port)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _served_folder(settings: Any, prefix: str, root: DeployRoot) -> tuple[str | None, Path | None]:
    url = getattr(settings, f"{prefix}_URL", None)
    folder = getattr(settings, f"{prefix}_ROOT", None)
    if not url or not folder:
        if prefix == "STATIC" and url:
            raise ServerConfigError(
                "STATIC_ROOT is not set; the web server serves the collected static files from it (such as "
                "shared_dir(BASE_DIR) / 'static')."
            )
        return None, None
    if str(url).startswith(("http://", "https://", "//")):
        return None, None  # served by another host (a CDN, a storage service), not by this web server
    if not str(url).startswith("/") or not str(url).endswith("/") or any(c in str(url) for c in " ;{}'\"\\"):
        raise ServerConfigError(
            f"{prefix}_URL is {url!r}; the web server serves it as a path, so it must start and end with '/'."
        )
    path = Path(folder)
    try:
        inside = path.resolve().relative_to(root.path.resolve()).parts
    except ValueError:
        raise ServerConfigError(
            f"{prefix}_ROOT {folder} is outside the deploy root {root.path}; the web server would serve files that "
            f"no deploy writes. Put it in the shared folder: {root.shared_dir / prefix.lower()}."
        ) from None
    if inside[:1] and inside[0] in (LIVE_LINK, STAGE_LINK, *root.slot_names):
        raise ServerConfigError(
            f"{prefix}_ROOT {folder} is inside a slot; a swap would change the files under the web server. Put it "
            f"in the shared folder: {root.shared_dir / prefix.lower()}."
        )
    return str(url), path


def _install(config: Mapping[str, Any]) -> Mapping[str, Path]:
    value = config.get("install", {})
    if not isinstance(value, Mapping) or not all(
        isinstance(name, str) and isinstance(target, str) and target.startswith("/")
        for name, target in value.items()
    ):
        raise ServerConfigError(
            "DEPLOYKIT_SERVERS['install'] maps a rendered file's name to the absolute path it is installed at, such "
            "as {'nginx-mysite.conf': '/etc/nginx/sites-enabled/mysite.conf'}."
        )
    return {name: Path(target) for name, target in value.items()}


def project_plan(root: DeployRoot, project_subdir: Path) -> ServerPlan:
    """The plan of the running project: ``DEPLOYKIT_SERVERS`` and the rest of its settings."""
    from django.conf import settings

    from django_deploykit.conf import conf
    from django_deploykit.deploy_root.locate import production_variable

    return build_plan(
        root,
        project_subdir,
        conf.SERVERS,
        settings,
        production_variable(),
        conf.LIVE_URL,
        conf.STAGE_URL,
    )
