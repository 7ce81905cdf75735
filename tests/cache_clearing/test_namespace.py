from __future__ import annotations

import pytest
from django.core.cache.backends.base import default_key_func

from django_deploykit.cache_clearing import namespace as ns


class NamespaceTests:
    def test_current_version_pattern_and_regex(self) -> None:
        space = ns.Namespace("mysite_blue", 3)
        assert space.redis_pattern() == "mysite_blue:3:*"
        assert space.matches("mysite_blue:3:page")
        assert not space.matches("mysite_blue:30:page")
        assert not space.matches("mysite_blue:2:page")
        assert space.describe() == "mysite_blue:3:*"

    def test_all_versions_need_digits(self) -> None:
        space = ns.Namespace("mysite", None)
        assert space.redis_pattern() == "mysite:[0-9]*"
        assert space.matches("mysite:1:a")
        assert space.matches("mysite:12:a:b")
        assert not space.matches("mysite:1canary:1:a")
        assert not space.matches("mysite_blue:1:a")
        assert not space.matches("mysite:canary:1:a")
        assert not space.matches("mysite:1")
        assert space.describe() == "mysite:<any version>:*"

    def test_glob_and_like_escaping(self) -> None:
        assert ns.escape_glob("a*b?c[d]e\\f^") == "a\\*b\\?c\\[d\\]e\\\\f\\^"
        assert ns.Namespace("my_site", None).sql_like() == "my!_site:%"
        assert ns.Namespace("100%!", 2).sql_like() == "100!%!!:2:%"

    @pytest.mark.parametrize(
        ("prefix", "expected"),
        [
            ("mysite_blue", "blue"),
            ("mysite_green", "green"),
            ("mysite", None),
            ("_blue", None),
            ("blue", None),
        ],
    )
    def test_slot_of_prefix(self, prefix: str, expected: str | None) -> None:
        assert ns.slot_of_prefix(prefix, ("blue", "green")) == expected

    def test_prefix_for_slot(self) -> None:
        assert ns.prefix_for_slot("mysite_blue", "green", ("blue", "green")) == "mysite_green"
        assert ns.prefix_for_slot("mysite", "green", ("blue", "green")) is None

    def test_slot_prefixes(self) -> None:
        prefixes = ns.slot_prefixes(["mysite_blue", "mysite", "x"], ("blue", "green"))
        assert prefixes == {"mysite_blue", "mysite_green"}

    def test_default_key_function_in_every_spelling(self) -> None:
        assert ns.is_default_key_function(None)
        assert ns.is_default_key_function(ns.DEFAULT_KEY_FUNCTION)
        assert ns.is_default_key_function(default_key_func)
        assert not ns.is_default_key_function("myapp.keys.make_key")
        assert not ns.is_default_key_function(lambda key, prefix, version: key)

    def test_safe_prefix_has_no_problems(self) -> None:
        problems = ns.namespace_problems("mysite_blue", key_function=None, other_slot_prefixes={"a_green"})
        assert problems == []

    @pytest.mark.parametrize(
        ("prefix", "words"),
        [
            ("", "KEY_PREFIX is empty"),
            ("my:site", "contains ':'"),
            ("my*", "glob character(s) *"),
            ("my[ab]", "glob character(s) [ ]"),
            ("my?", "glob character(s) ?"),
            ("my\\", "glob character(s) \\"),
            ("my site", "white space or a control character"),
            ("my\nsite", "white space or a control character"),
            ("my\x7f", "white space or a control character"),
            ("mysite", "is the beginning of another slot's prefix (mysite_blue, mysite_green)"),
        ],
    )
    def test_unsafe_prefixes(self, prefix: str, words: str) -> None:
        problems = ns.namespace_problems(
            prefix, key_function=None, other_slot_prefixes={"mysite_blue", "mysite_green"}
        )
        assert len(problems) == 1
        assert words in problems[0]

    def test_custom_key_function_says_why(self) -> None:
        [problem] = ns.namespace_problems("mysite", key_function="myapp.keys.make_key")
        assert "custom KEY_FUNCTION myapp.keys.make_key" in problem
        assert "'<prefix>:<version>:<key>'" in problem
