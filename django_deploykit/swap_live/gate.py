"""What the stage slot must pass before it goes live; each check runs in its own interpreter."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from django_deploykit.deploy_root.slot_commands import SlotProject, production_env, run_manage
from django_deploykit.exit_codes import ExitCode, answer_of
from django_deploykit.redact import redact_error, redact_url
from django_deploykit.servers.endpoints import open_http
from django_deploykit.text import tail


@dataclass(frozen=True)
class GateCheck:
    name: str
    passed: bool
    detail: str


def check_deploy(project: SlotProject, variable: str, timeout: float) -> GateCheck:
    env = production_env(variable)
    result = run_manage(project, ["check", "--deploy"], env=env, timeout=timeout)
    if result.exit_code == 0:
        return GateCheck("check --deploy", True, "no errors with the production settings")
    output = tail(
        result.stderr + result.stdout,
        full="the output of: " + project.command_line(["check", "--deploy"], env),
    )
    return GateCheck("check --deploy", False, f"exit {result.exit_code}: {output}")


def additive_migrations(project: SlotProject, variable: str, timeout: float) -> GateCheck:
    env = production_env(variable)
    result = run_manage(project, ["migrate_safe", "--phase=additive", "--check"], env=env, timeout=timeout)
    output = tail(
        result.stdout + result.stderr,
        full="the output of: " + project.command_line(["migrate_safe", "--phase=additive", "--check"], env),
    )
    answer = answer_of("migrate_safe --check", result.exit_code)
    if answer == ExitCode.OK:
        return GateCheck("additive migrations", True, "every additive migration of the stage code is applied")
    if answer == ExitCode.MIGRATIONS_PENDING:
        return GateCheck(
            "additive migrations",
            False,
            f"the stage code has unapplied additive migrations; run 'manage.py migrate_safe --phase=additive' "
            f"in the stage slot first. {output}",
        )
    if answer == ExitCode.MIGRATIONS_BLOCKED:
        return GateCheck("additive migrations", False, f"mixed or unclassified migrations: {output}")
    return GateCheck("additive migrations", False, f"migrate_safe failed (exit {result.exit_code}): {output}")


def health_probe(url: str, timeout: float) -> GateCheck:
    try:
        with open_http(url, timeout) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (OSError, ValueError) as exc:
        return GateCheck(
            "health URL", False, f"{redact_url(url)} did not answer: {redact_error(str(exc), url)}"
        )
    if status == 200:
        return GateCheck("health URL", True, f"{redact_url(url)} answered 200")
    return GateCheck("health URL", False, f"{redact_url(url)} answered {status}, not 200")
