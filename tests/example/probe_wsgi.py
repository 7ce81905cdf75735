"""Run inside an example project folder: load the WSGI application, GET one path, print JSON."""

from __future__ import annotations

import json
import os
import sys
from wsgiref.util import setup_testing_defaults


def main(path: str, host: str) -> None:
    # Like a WSGI server started in the project folder (gunicorn --chdir, uWSGI chdir=).
    sys.path.insert(0, os.getcwd())
    from django.conf import settings
    from mysite.wsgi import application

    environ: dict[str, object] = {"PATH_INFO": path, "HTTP_HOST": host}
    setup_testing_defaults(environ)
    result: dict[str, object] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
        result["status"] = int(status.split()[0])

    body = b"".join(application(environ, start_response))  # type: ignore[arg-type]
    result["body"] = body.decode("utf-8", "replace")
    result["choice"] = settings.DEPLOYKIT_SETTINGS_CHOICE
    result["database"] = settings.DATABASES["default"]["ENGINE"]
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
