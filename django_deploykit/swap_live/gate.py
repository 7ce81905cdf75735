"""What the stage slot must pass before it goes live; each check runs in its own interpreter."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

from django_deploykit.exit_codes import ExitCode, answer_of
from django_deploykit.redact import redact_error, redact_url
from django_deploykit.slot_commands import SlotProject, run_manage
from django_deploykit.text import tail


@dataclass(frozen=True)
class GateCheck:
    name: str
    passed: bool
    detail: str


def production_env(variable: str) -> dict[str, str]:
    # Only the variable's presence counts; an empty value leaves any other meaning aside.
    return {variable: ""}


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


class _SameOriginHeaders(urllib.request.HTTPRedirectHandler):
    """Follow a redirect, but carry the headers we added (the revision token) only to the same scheme, host
    and port: urllib would send them to wherever the redirect points, plain http and other hosts included."""

    def redirect_request(
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is None:
            return None
        before, after = urlsplit(req.full_url), urlsplit(new.full_url)
        if after.scheme not in ("http", "https"):
            raise urllib.error.URLError(f"a redirect to a {after.scheme or 'relative'} URL is not followed")
        if (before.scheme, before.hostname, before.port) != (after.scheme, after.hostname, after.port):
            for name in list(req.headers):
                new.remove_header(name)
        return new


_OPENER: Final = urllib.request.build_opener(_SameOriginHeaders)


def open_http(url: str, timeout: float, headers: dict[str, str] | None = None) -> Any:
    """Open an http(s) URL from the settings; any other scheme is refused."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"{redact_url(url)} is not an http(s) URL")
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (scheme checked above)
    try:
        return _OPENER.open(request, timeout=timeout)
    except http.client.HTTPException as exc:
        # Not a ValueError, so callers would let it through as a traceback quoting a piece of the URL,
        # which is a piece of the password when that holds '/', '?' or '#' ("nonnumeric port: 'Zx9'").
        raise ValueError(f"{type(exc).__name__}: {redact_error(str(exc).strip(), url)}") from None


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


def revision_endpoint(url: str, timeout: float, token: str | None = None) -> dict[str, object]:
    """What the revision endpoint at ``url`` answered; ``ValueError`` or ``OSError`` when it answered
    nothing usable (a server that speaks garbage, a body that is not a JSON object)."""
    with open_http(url, timeout, {"X-Deploykit-Token": token} if token else None) as response:
        try:
            body = response.read()
        except http.client.HTTPException as exc:
            raise ValueError(f"the answer broke off ({type(exc).__name__})") from None
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("the answer is not a JSON object")
    return data
