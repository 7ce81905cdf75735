from __future__ import annotations

import pytest

from django_deploykit.text import ELLIPSIS, shorten, tail


class ShortenTests:
    def test_text_that_fits_is_kept_whole(self) -> None:
        assert shorten("  exit 1: no such table  ", 30) == "exit 1: no such table"

    @pytest.mark.parametrize(
        ("keep", "limit", "expected"),
        [
            ("start", 24, "The setting KEY_PREFIX…"),
            ("end", 31, "…KEY_PREFIX '' is not allowed"),
        ],
    )
    def test_cut_at_a_word_boundary_never_inside_a_word(self, keep: str, limit: int, expected: str) -> None:
        text = "The setting KEY_PREFIX '' is not allowed"
        assert shorten(text, limit, keep=keep) == expected  # type: ignore[arg-type]

    def test_the_pointer_says_where_the_rest_is(self) -> None:
        assert shorten("one two three four", 9, full="/srv/site/logs/1/02-git.log") == (
            "one two… (more in /srv/site/logs/1/02-git.log)"
        )

    def test_a_single_word_longer_than_the_limit_is_cut_inside_it(self) -> None:
        assert shorten("/a/very/long/path/without/spaces", 10) == "/a/very/lo" + ELLIPSIS

    def test_punctuation_at_the_cut_is_dropped(self) -> None:
        assert shorten("first, second, third", 14) == "first, second" + ELLIPSIS


class TailTests:
    def test_the_end_of_a_traceback_on_one_redacted_line(self) -> None:
        output = (
            "Traceback (most recent call last):\n"
            '  File "manage.py", line 22, in <module>\n'
            "django.core.exceptions.ImproperlyConfigured: cannot reach "
            "postgres://app:hunter2@db/site with KEY_PREFIX ''\n"
        )
        shortened = tail(output, limit=100, full="/logs/03-migrate.log")
        assert shortened == (
            # "django.core.exceptions.ImproperlyConfigured:" is one word: it goes whole.
            "…cannot reach postgres://app:***@db/site with KEY_PREFIX '' (more in /logs/03-migrate.log)"
        )

    def test_short_output_is_joined_whole_without_a_pointer(self) -> None:
        assert tail("first\n\nsecond\n", full="/logs/x.log") == "first | second"
