"""What to do with the rendered files, and what in the settings disagrees with them: sentences, no I/O."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from django_deploykit.server_config.files import Access
from django_deploykit.server_config.plan import ServerPlan
from django_deploykit.server_config.render import RenderedFile


def warnings(plan: ServerPlan, reload_setting: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    expected = plan.expected_reload()
    if reload_setting and dict(reload_setting) != expected:
        found.append(
            f"DEPLOYKIT_RELOAD does not reload the servers these files describe; with them, set DEPLOYKIT_RELOAD = "
            f"{expected!r}."
        )
    if (
        plan.web_server == "nginx"
        and plan.loopback_upstreams()
        and not _covers_loopback(plan.trusted_proxies)
    ):
        found.append(
            "nginx connects to the app servers from this host, so every request comes from 127.0.0.1 unless "
            "its X-Forwarded-For is believed: add '127.0.0.1/32' and '::1/128' to "
            "DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES, or 'maintenance on --allow-ip' sees every visitor as 127.0.0.1."
        )
    return found


def access_warnings(
    plan: ServerPlan, env_file: Access | None, shared: Access | None, groups: frozenset[str] | None
) -> list[str]:
    """What the app servers' user could not read or write, as the deploy root stands now; ``groups`` are
    the user's groups, ``None`` when the user does not exist on this machine."""
    if groups is None:
        return [
            f"The user {plan.user!r} that the files run the app servers as does not exist on this machine."
        ]
    found: list[str] = []
    if env_file is not None and not _may(plan.user, groups, env_file, 0o4):
        found.append(
            f"{env_file.path} is {env_file.owner}'s with mode {env_file.mode:04o}: the app servers, run as "
            f"{plan.user}, could not read it. Give it to them (chown {plan.user} {env_file.path}); it holds "
            "secrets, so keep it 0600."
        )
    if shared is not None and not _may(plan.user, groups, shared, 0o2):
        found.append(
            f"{shared.path} is {shared.owner}'s with mode {shared.mode:04o}: the app servers, run as {plan.user}, "
            f"could not write media or SQLite files there (chown -R {plan.user} {shared.path})."
        )
    return found


def _may(user: str, groups: frozenset[str], access: Access, permission: int) -> bool:
    """Whether ``user`` has ``permission`` (4 read, 2 write) on ``access``, as the kernel decides it."""
    if user == "root":
        return True
    if access.owner == user:
        return bool(access.mode & (permission << 6))
    if access.group in groups:
        return bool(access.mode & (permission << 3))
    return bool(access.mode & permission)


def unknown_installs(plan: ServerPlan, every_file: list[RenderedFile]) -> str | None:
    """Why ``install`` is refused, if it names a file that is not rendered; ``None`` when it is fine."""
    names = [file.name for file in every_file]
    unknown = sorted(set(plan.install) - set(names))
    if not unknown:
        return None
    return (
        f"DEPLOYKIT_SERVERS['install'] names {', '.join(map(repr, unknown))}, which is not a rendered file; the "
        f"files are {', '.join(names)}."
    )


def install_steps(plan: ServerPlan, files: list[RenderedFile]) -> list[str]:
    """The commands that install ``files`` on a Debian-like system, as text for a person to run."""
    folder = plan.root.servers_dir
    names = {file.kind: [f.name for f in files if f.kind == file.kind] for file in files}
    steps: list[str] = []
    if "systemd" in names:
        systemd = names["systemd"]
        # What starts at boot: the sockets (which start their services), else the services; and the console
        # runner's path unit, which starts its oneshot service when a request waits.
        paths = [name for name in systemd if name.endswith(".path")]
        started_by_paths = {name.removesuffix(".path") + ".service" for name in paths}
        sockets = [name for name in systemd if name.endswith(".socket")]
        services = [name for name in systemd if name.endswith(".service") and name not in started_by_paths]
        units = (sockets or services) + paths
        steps += [f"systemctl link {folder / name}" for name in names["systemd"]]
        steps.append("systemctl daemon-reload")
        steps.append("systemctl enable --now " + " ".join(units))
    if "nginx" in names:
        for name in names["nginx"]:
            steps.append(f"ln -sfn {folder / name} /etc/nginx/sites-enabled/{plan.name}.conf")
        steps.append("nginx -t && systemctl reload nginx")
    if "apache" in names:
        conf = f"apache-{plan.name}.conf"
        steps.append(f"ln -sfn {folder / conf} /etc/apache2/sites-enabled/{plan.name}.conf")
        steps.append("a2enmod wsgi alias  # Debian's libapache2-mod-wsgi-py3, built for the slots' Python")
        steps.append("apachectl configtest && systemctl reload apache2")
    if "logrotate" in names:
        for name in names["logrotate"]:
            # logrotate skips a file that is not root's or that others may write: a copy, not a link.
            steps.append(f"install -m 0644 -o root -g root {folder / name} /etc/logrotate.d/{plan.name}")
    return steps


def _covers_loopback(cidrs: tuple[str, ...]) -> bool:
    loopback = ipaddress.ip_address("127.0.0.1")
    for cidr in cidrs:
        try:
            if loopback in ipaddress.ip_network(cidr, strict=False):
                return True
        except ValueError:
            continue
    return False
