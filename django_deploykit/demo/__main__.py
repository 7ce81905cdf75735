"""python -m django_deploykit.demo [FOLDER]: build a sandbox deploy root and deploy v1 then v2."""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

from django_deploykit.demo.sandbox import DemoError, check_requirements, run


def main(argv: list[str]) -> int:
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print("usage: python -m django_deploykit.demo [FOLDER]  (FOLDER must not exist yet)", file=sys.stderr)
        return 2
    base = Path(argv[0]).absolute() if argv else None
    if base is not None and base.exists():
        print(f"{base} exists; give a new folder for the sandbox.", file=sys.stderr)
        return 2
    # Before any folder is made, so that a demo that cannot run leaves nothing behind.
    try:
        source = check_requirements()
    except DemoError as exc:
        print(exc, file=sys.stderr)
        return 1
    if base is None:
        base = Path(tempfile.mkdtemp(prefix="deploykit-demo-"))
    try:
        result = run(base, source=source)
    except DemoError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    if result.load.failures:
        print(f"{len(result.load.failures)} requests failed:", file=sys.stderr)
        for failure, times in Counter(result.load.failures).most_common():
            print(f"  {times} x {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
