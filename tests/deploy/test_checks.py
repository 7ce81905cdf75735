"""System checks of the deploy settings."""

from __future__ import annotations

from django.test import override_settings

from django_deploykit.deploy.checks import check_numbers, check_paths, check_pipeline


class DeploySettingsChecksTests:
    def test_defaults_pass(self) -> None:
        assert check_pipeline() + check_numbers() + check_paths() == []

    @override_settings(DEPLOYKIT_DEPLOY_PIPELINE=["pull", "swapp"])
    def test_unknown_stage(self) -> None:
        [error] = check_pipeline()
        assert error.id == "django_deploykit.E050"
        assert "'swapp', which is not a stage" in error.msg

    @override_settings(DEPLOYKIT_DEPLOY_PIPELINE=[{"name": "x", "argv": []}, {"name": "y"}])
    def test_bad_entry(self) -> None:
        [error] = check_pipeline()
        assert "'argv' must not be empty" in error.msg

    @override_settings(DEPLOYKIT_STAGE_TIMEOUT=0, DEPLOYKIT_LOG_KEEP="10")
    def test_numbers(self) -> None:
        assert [error.id for error in check_numbers()] == ["django_deploykit.E051", "django_deploykit.E052"]

    @override_settings(DEPLOYKIT_REQUIREMENTS_FILE="/etc/requirements.txt", DEPLOYKIT_WHEELHOUSE="../wheels")
    def test_paths(self) -> None:
        assert [error.id for error in check_paths()] == ["django_deploykit.E053", "django_deploykit.E053"]
