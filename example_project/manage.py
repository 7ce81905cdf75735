#!/usr/bin/env python
"""Django's command-line utility for the example project."""

from __future__ import annotations

import os
import sys


def main() -> None:
    # The package, never one of its modules: the package's dispatcher chooses production or
    # development, so manage.py, wsgi.py and asgi.py cannot disagree.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
