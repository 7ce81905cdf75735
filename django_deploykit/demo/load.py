"""A small steady load on a URL from a few threads, counting every failed request."""

from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    requests: int = 0
    failures: list[str] = field(default_factory=list)


class Load:
    """``with Load(url) as load: ...`` requests ``url`` continuously until the block ends."""

    def __init__(self, url: str, threads: int = 4, timeout: float = 10.0) -> None:
        if urlsplit(url).scheme != "http":
            raise ValueError("The load only targets local http URLs.")
        self.url = url
        self.timeout = timeout
        self.result = LoadResult()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=self.timeout + 5)

    def _run(self) -> None:
        while not self._stop.is_set():
            failure = ""
            try:
                with urllib.request.urlopen(self.url, timeout=self.timeout) as response:  # noqa: S310 (http only)
                    response.read()
                    if response.status != 200:
                        failure = f"HTTP {response.status}"
            except urllib.error.HTTPError as exc:
                failure = f"HTTP {exc.code}"
            except OSError as exc:
                failure = f"{type(exc).__name__}: {exc}"
            with self._lock:
                self.result.requests += 1
                if failure:
                    self.result.failures.append(failure)
            time.sleep(0.01)
