"""Notification targets: every form, and a sentence naming the entry (never its address) for each bad one."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

from django_deploykit.deploy_root import runtime_settings
from django_deploykit.notifications.checks import check_targets
from django_deploykit.notifications.targets import (
    EVENTS,
    TargetError,
    address_label,
    configured_targets,
    parse_target,
    parse_targets,
)
from tests.deployment import Site, build_site

SLACK = "https://hooks.slack.com/services/T0001/B0002/SeCrEtPaThToKeN"
SENTRY = "https://sentry.io/api/0/organizations/acme/releases/"


class ParsingTests:
    def test_every_form(self) -> None:
        slack, plain, sentry = parse_targets(
            [
                {"url": SLACK, "format": "slack"},
                {"url": "http://10.0.0.5:8080/hook", "format": "json", "events": ["failure"], "name": "ops"},
                {"url": SENTRY, "format": "sentry", "token_env": "SENTRY_AUTH_TOKEN", "projects": ["web"]},
            ],
            "DEPLOYKIT_NOTIFICATIONS",
        )
        assert (slack.format, slack.events, slack.label) == ("slack", EVENTS, "https://hooks.slack.com/…")
        assert (plain.events, plain.label) == (("failure",), "ops")
        assert (sentry.events, sentry.token_env, sentry.projects) == (
            ("success",),
            "SENTRY_AUTH_TOKEN",
            ("web",),
        )

    def test_a_label_is_the_scheme_and_host_only(self) -> None:
        assert address_label(SLACK) == "https://hooks.slack.com/…"
        assert address_label("http://user:pw@127.0.0.1:9000/x?token=y") == "http://127.0.0.1:9000/…"

    @pytest.mark.parametrize(
        ("entry", "message"),
        [
            (
                "https://example.org/hook",
                "DEPLOYKIT_NOTIFICATIONS[0] must be a dict with 'url' and 'format', not str.",
            ),
            ({"format": "json", "name": "ops"}, "DEPLOYKIT_NOTIFICATIONS[0] (ops) needs a 'url'"),
            (
                {"url": SLACK, "format": "teams"},
                "DEPLOYKIT_NOTIFICATIONS[0] (https://hooks.slack.com/…): 'format' is 'teams'",
            ),
            ({"url": SLACK}, "'format' is None; use one of 'slack', 'json', 'sentry'."),
            (
                {"url": "file:///etc/passwd", "format": "json"},
                "must be an http:// or https:// address with a host",
            ),
            ({"url": "https://", "format": "json"}, "must be an http:// or https:// address with a host"),
            ({"url": "https://example.org:x/", "format": "json"}, "'url' is not a readable address"),
            ({"url": SLACK, "format": "slack", "events": ["deployed"]}, "'events' must be a non-empty list"),
            ({"url": SLACK, "format": "slack", "events": []}, "'events' must be a non-empty list"),
            ({"url": SLACK, "format": "slack", "hook": 1}, "has unknown key 'hook'"),
            (
                {"url": SLACK, "format": "slack", "token_env": "X"},
                "'token_env' only make sense with the 'sentry'",
            ),
            ({"url": SLACK, "format": "json", "name": ""}, "'name' must be a short label of one line"),
            ({"url": SLACK, "format": "json", "name": "a\nb"}, "'name' must be a short label of one line"),
            ({"url": SENTRY, "format": "sentry", "projects": ["web"]}, "a sentry target needs 'token_env'"),
            (
                {
                    "url": SENTRY,
                    "format": "sentry",
                    "token_env": "sntrys_abc-not-a-name",
                    "projects": ["web"],
                },
                "a sentry target needs 'token_env'",
            ),
            ({"url": SENTRY, "format": "sentry", "token_env": "T"}, "a sentry target needs 'projects'"),
            (
                {
                    "url": SENTRY,
                    "format": "sentry",
                    "token_env": "T",
                    "projects": ["web"],
                    "events": ["start"],
                },
                "marks a release on 'success' only",
            ),
        ],
    )
    def test_bad_entries_are_named_without_their_address(self, entry: object, message: str) -> None:
        with pytest.raises(TargetError) as caught:
            parse_target(entry, "DEPLOYKIT_NOTIFICATIONS[0]")
        assert message in str(caught.value)
        assert "SeCrEtPaThToKeN" not in str(caught.value)
        assert "/services/" not in str(caught.value)

    def test_the_setting_must_be_a_list(self) -> None:
        with pytest.raises(TargetError, match="DEPLOYKIT_NOTIFICATIONS must be a list of targets, not dict"):
            parse_targets({"url": SLACK}, "DEPLOYKIT_NOTIFICATIONS")


class CheckTests:
    @override_settings(
        DEPLOYKIT_NOTIFICATIONS=[{"url": SLACK, "format": "slack"}, {"url": SLACK, "format": "teams"}]
    )
    def test_a_bad_entry_is_E060(self) -> None:
        [error] = check_targets()
        assert error.id == "django_deploykit.E060"
        assert error.msg.startswith(
            "DEPLOYKIT_NOTIFICATIONS[1] (https://hooks.slack.com/…): 'format' is 'teams'"
        )
        assert "SeCrEtPaThToKeN" not in error.msg

    def test_no_targets_is_fine(self) -> None:
        assert check_targets() == []


class ConfiguredTargetsTests:
    @pytest.fixture
    def bare_site(self, tmp_path: Path) -> Site:
        return build_site(tmp_path, venvs=False)

    def test_the_setting_and_the_console_both_count_and_a_bad_saved_entry_is_skipped(
        self, bare_site: Site
    ) -> None:
        runtime_settings.write(
            bare_site.root,
            runtime_settings.RuntimeSettings(
                notifications=[
                    {"url": SLACK, "format": "slack", "name": "team"},
                    {"url": SLACK, "format": "nope"},
                ]
            ),
        )
        with override_settings(DEPLOYKIT_NOTIFICATIONS=[{"url": "https://example.org/h", "format": "json"}]):
            targets, problems = configured_targets(bare_site.root)
        assert [target.label for target in targets] == ["https://example.org/…", "team"]
        assert problems == [
            "the console's notifications[1] (https://hooks.slack.com/…): 'format' is 'nope'; use one of 'slack', "
            "'json', 'sentry'. It was skipped."
        ]

    def test_an_unreadable_console_file_costs_only_its_targets(self, bare_site: Site) -> None:
        bare_site.root.console_dir.mkdir(parents=True, exist_ok=True)
        bare_site.root.runtime_settings_file.write_text("{not json")
        with override_settings(DEPLOYKIT_NOTIFICATIONS=[{"url": "https://example.org/h", "format": "json"}]):
            targets, problems = configured_targets(bare_site.root)
        assert [target.label for target in targets] == ["https://example.org/…"]
        assert len(problems) == 1
        assert problems[0].endswith("Its notification targets were skipped.")
