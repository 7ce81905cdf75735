"""Start gunicorn so that a USR2 re-exec goes through the slot links again.

    <root>/live/.venv/bin/python -m django_deploykit.gunicorn_launcher \\
        --chdir <root>/live/<project> --pid <root>/run/live.pid mysite.wsgi

gunicorn re-executes ``sys.executable`` with ``sys.argv`` on USR2. Started as ``python -m
gunicorn``, ``sys.argv[0]`` is the file ``gunicorn/__main__.py``, and running that file as a
script puts ``gunicorn/`` first on ``sys.path``, where its ``http`` package hides the
standard library's: the new master's workers fail. Through this launcher the re-exec is
``python -m django_deploykit.gunicorn_launcher ARGS`` again, with the interpreter path as it
was given, so the new master gets the virtualenv and the code the links point at now.
"""

from __future__ import annotations

import sys


def main() -> None:
    from gunicorn.app.wsgiapp import WSGIApplication

    arguments = sys.argv[1:]
    application = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]")  # parses sys.argv
    sys.argv = ["-m", __spec__.name if __spec__ else "django_deploykit.gunicorn_launcher", *arguments]
    application.run()


if __name__ == "__main__":
    main()
