"""Start gunicorn so that a USR2 re-exec goes through the slot links again.

    <root>/live/.venv/bin/python -m django_deploykit.gunicorn_launcher \\
        --chdir <root>/live/<project> --pid <root>/run/live.pid mysite.wsgi

gunicorn re-executes ``sys.executable`` with ``sys.argv`` on USR2. Started as ``python -m
gunicorn``, ``sys.argv[0]`` is the file ``gunicorn/__main__.py``, and running that file as a
script puts ``gunicorn/`` first on ``sys.path``, where its ``http`` package hides the
standard library's: the new master's workers fail. Through this launcher the re-exec is
``python -m django_deploykit.gunicorn_launcher ARGS`` again, with the interpreter path as it
was given, so the new master gets the virtualenv and the code the links point at now.

Each server also gets a control socket of its own beside its pid file (``run/live.ctl`` for
``--pid run/live.pid``): gunicorn 25.1 and newer put every instance's control socket at one
default path per user, so a live and a stage server started by the same user would share it.
``--control-socket`` or ``--no-control-socket`` given on the command line win.
"""

from __future__ import annotations

import sys
from pathlib import Path


def _pidfile(arguments: list[str]) -> str | None:
    for index, argument in enumerate(arguments):
        if argument in ("--pid", "-p") and index + 1 < len(arguments):
            return arguments[index + 1]
        if argument.startswith("--pid="):
            return argument.split("=", 1)[1]
    return None


def with_own_control_socket(arguments: list[str]) -> list[str]:
    """``arguments`` plus ``--control-socket <pidfile>.ctl`` where gunicorn has control sockets."""
    try:
        from gunicorn.config import KNOWN_SETTINGS
    except ImportError:  # pragma: no cover - every supported gunicorn has it
        return arguments
    if not any(setting.name == "control_socket" for setting in KNOWN_SETTINGS):
        return arguments  # gunicorn before 25.1
    if any(argument.startswith(("--control-socket", "--no-control-socket")) for argument in arguments):
        return arguments
    pidfile = _pidfile(arguments)
    if pidfile is None:
        return arguments
    return ["--control-socket", str(Path(pidfile).with_suffix(".ctl")), *arguments]


def main() -> None:
    from gunicorn.app.wsgiapp import WSGIApplication

    arguments = with_own_control_socket(sys.argv[1:])
    sys.argv = [sys.argv[0], *arguments]
    application = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]")  # parses sys.argv
    sys.argv = ["-m", __spec__.name if __spec__ else "django_deploykit.gunicorn_launcher", *arguments]
    application.run()


if __name__ == "__main__":
    main()
