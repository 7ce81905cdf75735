from __future__ import annotations

import pytest

from django_deploykit.redact import redact_error, redact_text, redact_url


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
            # Issue 11: urlsplit cuts the user-info at the first '/', '?' or '#' of the password.
            ("postgres://app:Zx9/Qw8+Lk7@db:5432/app", "postgres://app:***@db:5432/app"),
            (
                "postgres://app:Zx9?Qw8@db:5432/app?sslmode=require",
                "postgres://app:***@db:5432/app?sslmode=require",
            ),
            ("postgres://app:Zx9#Qw8@db:5432/app", "postgres://app:***@db:5432/app"),
            ("redis://:Zx9/Qw8@cache:6379/0", "redis://:***@cache:6379/0"),
            ("redis://Zx9/Qw8@cache:6379/0", "redis://***@cache:6379/0"),
        ],
    )
    def test_redact_url(self, url: str, expected: str) -> None:
        assert redact_url(url) == expected

    def test_redact_text(self) -> None:
        text = "connecting to mysql://root:pw@127.0.0.1/test with key abc123"
        assert redact_text(text, ("abc123",)) == "connecting to mysql://root:***@127.0.0.1/test with key ***"

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            (
                "database: postgres://app:Zx9/Qw8 Lk7@db:5432/app (down)",
                "database: postgres://app:***@db:5432/app (down)",
            ),
            (
                "from postgres://a:Zx9/Qw8@h1/x to 'redis://:Lk7?Qw8@h2/0' failed",
                "from postgres://a:***@h2/0' failed",
            ),
            (
                "see https://docs.example/x and postgres://a:Zx9/Qw8@db/x",
                "see https://docs.example/x and postgres://a:***@db/x",
            ),
            (
                "line one https://a:Zx9/1@h/x\nline two https://h/x",
                "line one https://a:***@h/x\nline two https://h/x",
            ),
        ],
    )
    def test_redact_text_finds_the_password_without_parsing(self, text: str, expected: str) -> None:
        assert redact_text(text) == expected

    def test_redact_error_masks_pieces_of_the_password(self) -> None:
        url = "postgres://app:Zx9/Qw8+Lk7@db:5432/app"
        message = redact_error("Port could not be cast to integer value as 'Zx9'", url)
        assert message == "Port could not be cast to integer value as '***'"
        assert redact_error("host 'db' said no", url) == "host 'db' said no"
