from __future__ import annotations

import pytest

from django_deploykit.redact import redact_text, redact_url


class RedactTests:
    @pytest.mark.parametrize(
        ("url", "expected"),
        [
            ("postgres://app:s3cret@db:5432/site", "postgres://app:***@db:5432/site"),
            ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
            ("redis://s3cret@cache:6379/0", "redis://***@cache:6379/0"),
            (
                "https://ghp_abcdefghijklmnopqrstuvwxyz@git.example/repo.git",
                "https://***@git.example/repo.git",
            ),
            ("ssh://git@git.example/repo.git", "ssh://git@git.example/repo.git"),
            ("https://api.example/hook?token=abc&x=1", "https://api.example/hook?token=***&x=1"),
            ("sqlite:////var/db.sqlite3", "sqlite:////var/db.sqlite3"),
        ],
    )
    def test_redact_url(self, url: str, expected: str) -> None:
        assert redact_url(url) == expected

    def test_redact_text(self) -> None:
        text = "connecting to mysql://root:pw@127.0.0.1/test with key abc123"
        assert redact_text(text, ("abc123",)) == "connecting to mysql://root:***@127.0.0.1/test with key ***"
