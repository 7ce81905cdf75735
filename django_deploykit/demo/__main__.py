"""python -m django_deploykit.demo [FOLDER]: build a sandbox deploy root and deploy v1 then v2."""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from pathlib import Path

from django_deploykit.demo.sandbox import DemoError, run


def main(argv: list[str]) -> int:
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print("usage: python -m django_deploykit.demo [FOLDER]  (FOLDER must not exist yet)", file=sys.stderr)
        return 2
    if argv:
        base = Path(argv[0]).absolute()
        if base.exists():
            print(f"{base} exists; give a new folder for the sandbox.", file=sys.stderr)
            return 2
    else:
        base = Path(tempfile.mkdtemp(prefix="deploykit-demo-"))
    try:
        result = run(base)
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
