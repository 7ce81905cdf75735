"""deploy_check: diagnose one slot, each finding with a fix in words.

Everything about the slot's code is asked in the slot's own interpreter; what the running
server uses is asked from its revision endpoint, which knows what the settings dispatcher
chose (reading the process's environment misses uWSGI's ``--env``).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from django_deploykit.conf import conf
from django_deploykit.deploy.procedure import unfinished_deploys, unfinished_message
from django_deploykit.deploy_pull import static
from django_deploykit.deploy_root import dependencies, links, lock, slot_settings
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.deploy_root.revision import read_revision
from django_deploykit.deploy_root.slot_commands import SlotProject, production_env, run_manage, run_program
from django_deploykit.redact import redact_error, redact_url
from django_deploykit.server_config import advice
from django_deploykit.server_config import files as server_files
from django_deploykit.server_config.plan import ServerConfigError, project_plan
from django_deploykit.server_config.render import render
from django_deploykit.servers.endpoints import revision_endpoint
from django_deploykit.text import tail

Level = Literal["ok", "warning", "error"]

_SETTINGS_SNIPPET = (
    "import json; from django.conf import settings; "
    "print(json.dumps({'DEBUG': settings.DEBUG, 'STATIC_ROOT': str(settings.STATIC_ROOT or '')}))"
)
_VERSIONS_SNIPPET = (
    "import json, sys; from importlib import metadata\n"
    "found = {}\n"
    "for name in sys.argv[1:]:\n"
    "    try: found[name] = metadata.version(name)\n"
    "    except metadata.PackageNotFoundError: found[name] = None\n"
    "print(json.dumps(found))"
)


@dataclass(frozen=True)
class Finding:
    check: str
    level: Level
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class CheckOptions:
    project_subdir: Path
    link: Literal["live", "stage"]
    url: str | None
    production_variable: str = "PRODUCTION"
    requirements: str | None = "requirements.txt"
    token: str | None = None
    timeout: float = 120.0


def diagnose(root: DeployRoot, options: CheckOptions) -> list[Finding]:
    problem = links.needs_repair(root)
    if problem:
        return [Finding("links", "error", problem, "Run 'manage.py swap_live --repair', then check again.")]
    state = links.read_links(root)
    slot = state.live if options.link == "live" else state.stage
    findings = [Finding("links", "ok", f"live -> {state.live}, stage -> {state.stage}")]
    findings += _unfinished(root)
    project = SlotProject(root, slot, options.project_subdir)
    if not project.python.exists():
        findings.append(
            Finding(
                "virtualenv",
                "error",
                f"{slot} has no virtualenv at {project.python.parent.parent}",
                f"Create it: python3 -m venv {project.python.parent.parent}, then run deploy_pull.",
            )
        )
        return findings
    env = production_env(options.production_variable)
    findings += _requirements(project, options)
    findings += _settings_and_static(project, env, options)
    findings += _migrations(project, env, options)
    findings.append(_reload(project, env, options))
    findings.append(_server(root, slot, project, options))
    findings += _server_files(root, options)
    return findings


def _unfinished(root: DeployRoot) -> list[Finding]:
    """A deploy killed before it could record its outcome (the next deploy records it, too)."""
    if lock.read_holder(root) is not None:
        return []  # a deploy that runs now is "started" too
    return [
        Finding("history", "warning", unfinished_message(record), "Check, then run the deploy again.")
        for record in unfinished_deploys(root)
    ]


def _reload(project: SlotProject, env: dict[str, str], options: CheckOptions) -> Finding:
    """Whether the slot's code says how to reload the server of the link it is checked as."""
    try:
        reported = slot_settings.read(project, env, options.timeout)
    except slot_settings.SlotSettingsError as exc:
        return Finding("reload", "error", str(exc), "Fix the settings or the shared .env, then check again.")
    config = (reported.get("RELOAD") or {}).get(options.link)
    if not config:
        return Finding(
            "reload",
            "warning",
            f"DEPLOYKIT_RELOAD has no adapter for {options.link}: deploys of {project.slot} cannot reload the "
            f"{options.link} server, which keeps serving the code it started with",
            f'Set DEPLOYKIT_RELOAD = {{"{options.link}": {{"adapter": "gunicorn", "pidfile": "run/{options.link}.pid"}}}} '
            "(or the adapter of your server; see docs/swap_live.md).",
        )
    return Finding("reload", "ok", f"{options.link} is reloaded by the {config.get('adapter')} adapter")


def _requirements(project: SlotProject, options: CheckOptions) -> list[Finding]:
    requirements = dependencies.requirements_file(project.slot_dir, options.requirements)
    if requirements is None:
        return [
            Finding(
                "requirements", "ok", f"no requirements file {options.requirements!r}; nothing to compare"
            )
        ]
    findings = []
    if not dependencies.is_current(project.slot_dir, requirements):
        findings.append(
            Finding(
                "requirements",
                "warning",
                f"{options.requirements} changed since it was last installed into {project.slot}'s virtualenv",
                "Run 'manage.py deploy_pull' (or pip install -r into that virtualenv).",
            )
        )
    pins = dependencies.pinned(requirements)
    if not pins:
        return [*findings, Finding("requirements", "ok", "no name==version pins to compare")]
    result = run_program(
        [str(project.python), "-c", _VERSIONS_SNIPPET, *pins], cwd=project.slot_dir, timeout=options.timeout
    )
    try:
        installed: dict[str, str | None] = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return [
            *findings,
            Finding(
                "requirements",
                "error",
                f"the slot's python failed: {tail(result.error_output, limit=300, full=str(project.python))}",
                "Rebuild the slot's virtualenv.",
            ),
        ]
    wrong = [
        f"{name} {installed.get(name) or 'missing'} (pinned {version})"
        for name, version in pins.items()
        if installed.get(name) != version
    ]
    if wrong:
        findings.append(
            Finding(
                "requirements",
                "error",
                "not installed at the pinned version: " + ", ".join(wrong),
                f"Run 'manage.py deploy_pull' or '{project.python} -m pip install -r {requirements.path}'.",
            )
        )
    else:
        findings.append(Finding("requirements", "ok", f"all {len(pins)} pinned requirements installed"))
    return findings


def _settings_and_static(project: SlotProject, env: dict[str, str], options: CheckOptions) -> list[Finding]:
    result = run_manage(
        project, ["shell", "--no-color", "-v", "0", "-c", _SETTINGS_SNIPPET], env=env, timeout=options.timeout
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.exit_code != 0 or not lines:
        return [
            Finding(
                "settings",
                "error",
                f"the production settings do not load in {project.slot}: "
                + tail(
                    result.error_output,
                    limit=400,
                    full="the output of: " + project.command_line(["check"], env),
                ),
                "Fix the settings or the shared .env, then check again.",
            )
        ]
    data = json.loads(lines[-1])
    findings = []
    if data["DEBUG"]:
        findings.append(
            Finding(
                "debug",
                "error",
                "DEBUG is on with the production settings",
                "Set DEBUG=false in the shared .env.",
            )
        )
    else:
        findings.append(Finding("debug", "ok", "DEBUG is off with the production settings"))
    static_root = Path(data["STATIC_ROOT"]) if data["STATIC_ROOT"] else None
    if static_root is None or not static_root.is_dir() or not any(static_root.iterdir()):
        findings.append(
            Finding(
                "static",
                "error",
                f"no static files collected in {static_root or 'STATIC_ROOT (unset)'}",
                "Run 'manage.py deploy_pull' (it runs collectstatic).",
            )
        )
    elif static.collected_fingerprint(project.slot_dir) != static.fingerprint(project.slot_dir):
        findings.append(
            Finding(
                "static",
                "warning",
                f"{project.slot}'s static sources changed since its last collectstatic",
                "Run 'manage.py deploy_pull'.",
            )
        )
    else:
        findings.append(Finding("static", "ok", f"collected in {static_root}"))
    return findings


def _migrations(project: SlotProject, env: dict[str, str], options: CheckOptions) -> list[Finding]:
    result = run_manage(
        project, ["migrate_safe", "--plan", "--format", "json"], env=env, timeout=options.timeout
    )
    try:
        plan: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        return [
            Finding(
                "migrations",
                "error",
                f"migrate_safe --plan failed (exit {result.exit_code}): "
                + tail(
                    result.error_output,
                    limit=300,
                    full="the output of: " + project.command_line(["migrate_safe", "--plan"], env),
                ),
                "Run 'manage.py migrate_safe --plan' in the slot to see why.",
            )
        ]
    by_phase: dict[str, list[str]] = {}
    for migration in plan.get("migrations", []):
        by_phase.setdefault(str(migration.get("phase")), []).append(
            f"{migration.get('app_label')}.{migration.get('name')}"
        )
    if not by_phase:
        return [Finding("migrations", "ok", "no migration pending")]
    listing = "; ".join(f"{phase}: {', '.join(names)}" for phase, names in sorted(by_phase.items()))
    if options.link == "live" and set(by_phase) - {"destructive"}:
        return [
            Finding(
                "migrations",
                "error",
                f"the live code has migrations pending ({listing})",
                "Run 'manage.py migrate_safe --phase=additive' in the live slot, or deploy again.",
            )
        ]
    if options.link == "live":
        return [
            Finding(
                "migrations",
                "warning",
                f"destructive migrations pending ({listing})",
                "Run 'manage.py migrate_safe --phase=destructive' in the live slot once the old code is gone.",
            )
        ]
    return [
        Finding(
            "migrations",
            "warning",
            f"pending in the stage slot ({listing})",
            "Run 'manage.py deploy_pull' to apply the additive ones.",
        )
    ]


def _server(root: DeployRoot, slot: str, project: SlotProject, options: CheckOptions) -> Finding:
    if not options.url:
        setting = "DEPLOYKIT_LIVE_URL" if options.link == "live" else "DEPLOYKIT_STAGE_URL"
        return Finding(
            "server",
            "warning",
            f"{setting} is not set, so the running server was not asked",
            f"Set {setting} to the revision endpoint of the {options.link} server.",
        )
    try:
        seen = revision_endpoint(options.url, 10.0, options.token)
    except (OSError, ValueError) as exc:
        return Finding(
            "server",
            "error",
            f"{redact_url(options.url)} did not answer: {redact_error(str(exc), options.url)}",
            f"Start or reload the {options.link} server.",
        )
    expected_prefix = os.path.realpath(project.python.parent.parent)
    expected_revision = read_revision(project.slot_dir)
    problems = []
    if seen.get("slot") != slot:
        problems.append(f"it serves slot {seen.get('slot')}, not {slot}")
    if seen.get("sys_prefix") != expected_prefix:
        problems.append(f"it runs the virtualenv {seen.get('sys_prefix')}, not {expected_prefix}")
    if seen.get("revision") != expected_revision:
        problems.append(f"it runs revision {seen.get('revision')}, the checkout is at {expected_revision}")
    if seen.get("settings_mode") != "production":
        problems.append(f"its settings mode is {seen.get('settings_mode')}, not production")
    if problems:
        return Finding(
            "server",
            "error",
            "the running server: " + "; ".join(problems),
            f"Reload the {options.link} server (see DEPLOYKIT_RELOAD) and check that it starts through the {options.link} link.",
        )
    return Finding(
        "server",
        "ok",
        f"serves {slot} at {expected_revision} from {expected_prefix} with the production settings",
    )


def _server_files(root: DeployRoot, options: CheckOptions) -> list[Finding]:
    """Whether the servers' files, rendered and installed, are what the settings render now."""
    if not conf.SERVERS:
        return []  # server_config is not used: the servers are configured by hand
    try:
        plan = project_plan(root, options.project_subdir)
    except ServerConfigError as exc:
        return [
            Finding(
                "server files",
                "error",
                str(exc),
                "Fix DEPLOYKIT_SERVERS, then run 'manage.py server_config'.",
            )
        ]
    rendered = render(plan, plan.kinds())
    access = [
        Finding("server access", "warning", warning, "Change the owner or the mode the warning names.")
        for warning in advice.access_warnings(plan, *server_files.servers_access(plan))
    ]
    drift = server_files.drift(rendered, root.servers_dir, plan.install)
    if drift:
        return [
            *access,
            Finding(
                "server files",
                "warning",
                "; ".join(found.sentence() for found in drift),
                "See the differences with 'manage.py server_config --check', render them with 'manage.py "
                "server_config', then install them (docs/servers.md).",
            ),
        ]
    installed = sum(1 for file in rendered if file.name in plan.install)
    return [
        Finding(
            "server files", "ok", f"{len(rendered)} files as the settings render them, {installed} installed"
        )
    ]
