"""The banner, the 503 page and problem+json in the visitor's language.

The middleware runs before LocaleMiddleware: without it in MIDDLEWARE the texts are in
LANGUAGE_CODE, with it they are in the language it would choose for the request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.test import Client, RequestFactory
from django.utils import timezone, translation

from django_deploykit.maintenance.middleware import MaintenanceMiddleware
from django_deploykit.maintenance.state import MaintenanceState
from django_deploykit.maintenance.stores import FileStore
from tests.maintenance.conftest import NOW, make_state
from tests.maintenance.urls import PAGE

MIDDLEWARE = "django_deploykit.maintenance.middleware.MaintenanceMiddleware"
LOCALE_MIDDLEWARE = "django.middleware.locale.LocaleMiddleware"
factory = RequestFactory()
BEFORE_START = NOW - timedelta(minutes=25)
DURING = NOW + timedelta(minutes=10)
# What each language says for make_state() at BEFORE_START (banner) and DURING (503).
TEXTS = {
    "fr": {
        "banner": "La maintenance commencera à 12:00 (dans 25 minutes)\u00a0: Upgrading the database.</div>",
        "title": "<title>Site en maintenance</title>",
        "back": "Retour prévu aujourd\u2019hui à 12:30 (dans 20 minutes).",
        "problem": "Service indisponible",
        "detail": "Le site est en maintenance.",
    },
    "de": {
        "banner": "Wartungsarbeiten beginnen um 12:00 Uhr (in 25 Minuten): Upgrading the database.</div>",
        "title": "<title>Wegen Wartungsarbeiten nicht erreichbar</title>",
        "back": "Wir sind voraussichtlich heute um 12:30 Uhr wieder erreichbar (in 20 Minuten).",
        "problem": "Dienst nicht verfügbar",
        "detail": "Die Website ist wegen Wartungsarbeiten nicht erreichbar.",
    },
    "es": {
        "banner": "El mantenimiento comenzará a las 12:00 (en 25 minutos): Upgrading the database.</div>",
        "title": "<title>Sitio en mantenimiento</title>",
        "back": "Esperamos estar de vuelta hoy a las 12:30 (en 20 minutos).",
        "problem": "Servicio no disponible",
        "detail": "El sitio está en mantenimiento.",
    },
}
LANGUAGES = sorted(TEXTS)


class LanguageRecorder:
    """The view behind the middleware: remembers the language active while it ran."""

    def __init__(self) -> None:
        self.languages: list[str | None] = []

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        self.languages.append(translation.get_language())
        return HttpResponse(PAGE.format("<p>hi</p>"))


def run(request: HttpRequest, now: Any) -> tuple[HttpResponseBase, LanguageRecorder]:
    view = LanguageRecorder()
    return MaintenanceMiddleware(view, clock=lambda: now)(request), view


def write(state_file: Path, state: MaintenanceState) -> None:
    FileStore(state_file).write(state)


@pytest.fixture(autouse=True)
def _language_restored() -> Iterator[None]:
    # LocaleMiddleware leaves its choice active in the thread; later tests expect none.
    yield
    translation.deactivate()


class ProjectLanguageTests:
    """No LocaleMiddleware: every visitor gets LANGUAGE_CODE."""

    @pytest.mark.parametrize("language", LANGUAGES)
    def test_banner(self, state_file: Path, settings: Any, language: str) -> None:
        settings.LANGUAGE_CODE = language
        write(state_file, make_state())
        response, _ = run(factory.get("/"), BEFORE_START)
        assert TEXTS[language]["banner"] in response.content.decode()

    @pytest.mark.parametrize("language", LANGUAGES)
    def test_503_page(self, state_file: Path, settings: Any, language: str) -> None:
        settings.LANGUAGE_CODE = language
        write(state_file, make_state())
        response, _ = run(factory.get("/"), DURING)
        html = response.content.decode()
        assert response.status_code == 503
        assert f'<html lang="{language}">' in html
        assert TEXTS[language]["title"] in html
        assert TEXTS[language]["back"] in html
        # Nothing was negotiated, so nothing varies with the request's language.
        assert not response.has_header("Content-Language")
        assert response["Vary"] == "Accept"

    @pytest.mark.parametrize("language", LANGUAGES)
    def test_problem_json(self, state_file: Path, settings: Any, language: str) -> None:
        settings.LANGUAGE_CODE = language
        write(state_file, make_state(message=""))
        response, _ = run(factory.get("/", HTTP_ACCEPT="application/problem+json"), DURING)
        problem = json.loads(response.content)
        assert problem["title"] == TEXTS[language]["problem"]
        assert problem["detail"] == TEXTS[language]["detail"]

    def test_page_without_an_end_or_message(self, state_file: Path, settings: Any) -> None:
        settings.LANGUAGE_CODE = "fr"
        write(state_file, make_state(message="", end=None))
        html = run(factory.get("/"), DURING)[0].content.decode()
        assert '<p id="maintenance-message">Le site est en cours de mise à jour.</p>' in html
        assert '<p id="maintenance-back-at">Nous serons de retour sous peu.</p>' in html

    def test_banner_for_another_day(self, state_file: Path, settings: Any) -> None:
        settings.LANGUAGE_CODE = "de"
        write(state_file, make_state(start=NOW + timedelta(days=3), end=None, warn_seconds=4 * 86400))
        html = run(factory.get("/"), NOW)[0].content.decode()
        assert "Wartungsarbeiten beginnen am 4. Dezember 2026 um 12:00 Uhr (in 3 Tagen): " in html

    def test_accept_language_is_not_read_without_locale_middleware(
        self, state_file: Path, settings: Any
    ) -> None:
        settings.LANGUAGE_CODE = "de"
        write(state_file, make_state())
        response, _ = run(factory.get("/", HTTP_ACCEPT_LANGUAGE="fr"), DURING)
        assert TEXTS["de"]["back"] in response.content.decode()

    def test_without_use_i18n_the_texts_are_english(self, state_file: Path, settings: Any) -> None:
        # Django picks its translation functions once; forgetting them is its advice for tests
        # that change USE_I18N (django.utils.translation.Trans).
        settings.USE_I18N = False
        settings.LANGUAGE_CODE = "fr"
        translation._trans.__dict__.clear()  # type: ignore[attr-defined]
        try:
            write(state_file, make_state())
            response, _ = run(factory.get("/"), DURING)
        finally:
            translation._trans.__dict__.clear()  # type: ignore[attr-defined]
        assert "We expect to be back today at 12:30 (in 20 minutes)." in response.content.decode()

    def test_project_template_engine_translates_too(self, state_file: Path, settings: Any) -> None:
        # The suite has no TEMPLATES, so the other tests use the package's fallback engine.
        engine = {"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}
        settings.TEMPLATES = [engine]
        settings.LANGUAGE_CODE = "fr"
        write(state_file, make_state())
        assert TEXTS["fr"]["back"] in run(factory.get("/"), DURING)[0].content.decode()
        assert TEXTS["fr"]["banner"] in run(factory.get("/"), BEFORE_START)[0].content.decode()


class NegotiatedLanguageTests:
    """With LocaleMiddleware, the language it would choose: URL prefix, cookie, Accept-Language."""

    @pytest.fixture(autouse=True)
    def _i18n(self, settings: Any) -> None:
        settings.ROOT_URLCONF = "tests.maintenance.urls"
        settings.MIDDLEWARE = [MIDDLEWARE, LOCALE_MIDDLEWARE]
        settings.LANGUAGE_CODE = "en"
        settings.LANGUAGES = [("en", "English"), ("fr", "French"), ("de", "German"), ("es", "Spanish")]

    def window(self, state_file: Path, *, starts_in: timedelta, message: str = "Upgrading.") -> None:
        start = timezone.now() + starts_in
        write(state_file, make_state(start=start, end=start + timedelta(minutes=30), message=message))

    def test_banner_in_the_accepted_language(self, state_file: Path) -> None:
        self.window(state_file, starts_in=timedelta(minutes=25))
        response = Client().get("/", HTTP_ACCEPT_LANGUAGE="fr-CA,fr;q=0.9,en;q=0.5")
        html = response.content.decode()
        # A window 25 minutes ahead starts "demain" when the test runs just before midnight.
        assert "La maintenance commencera à " in html or "La maintenance commencera demain à " in html
        assert "(dans 25 minutes)\u00a0: Upgrading.</div>" in html
        # LocaleMiddleware still made its own choice for the page.
        assert response["Content-Language"] == "fr"

    @pytest.mark.parametrize("language", LANGUAGES)
    def test_503_page_in_the_accepted_language(self, state_file: Path, language: str) -> None:
        self.window(state_file, starts_in=-timedelta(minutes=1))
        response = Client().get("/", HTTP_ACCEPT_LANGUAGE=f"{language},en;q=0.5")
        assert response.status_code == 503
        assert TEXTS[language]["title"] in response.content.decode()
        assert response["Content-Language"] == language
        assert response["Vary"] == "Accept, Accept-Language"

    @pytest.mark.parametrize("language", LANGUAGES)
    def test_problem_json_in_the_accepted_language(self, state_file: Path, language: str) -> None:
        self.window(state_file, starts_in=-timedelta(minutes=1), message="")
        response = Client().get("/", HTTP_ACCEPT="application/json", HTTP_ACCEPT_LANGUAGE=language)
        problem = json.loads(response.content)
        assert problem["title"] == TEXTS[language]["problem"]
        assert problem["detail"] == TEXTS[language]["detail"]
        assert response["Content-Language"] == language
        assert response["Vary"] == "Accept, Accept-Language"

    def test_language_cookie_wins_over_accept_language(self, state_file: Path, settings: Any) -> None:
        self.window(state_file, starts_in=-timedelta(minutes=1))
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
        response = client.get("/", HTTP_ACCEPT_LANGUAGE="de")
        assert response["Content-Language"] == "es"
        assert TEXTS["es"]["title"] in response.content.decode()

    def test_unknown_language_falls_back_to_language_code(self, state_file: Path, settings: Any) -> None:
        settings.LANGUAGE_CODE = "de"
        self.window(state_file, starts_in=-timedelta(minutes=1))
        response = Client().get("/", HTTP_ACCEPT_LANGUAGE="ja")
        assert response["Content-Language"] == "de"
        assert TEXTS["de"]["title"] in response.content.decode()

    def test_language_prefix_in_the_url_wins(self, state_file: Path, settings: Any) -> None:
        settings.ROOT_URLCONF = "tests.maintenance.i18n_urls"
        self.window(state_file, starts_in=-timedelta(minutes=1))
        prefixed = Client().get("/de/", HTTP_ACCEPT_LANGUAGE="fr")
        assert prefixed["Content-Language"] == "de"
        assert TEXTS["de"]["title"] in prefixed.content.decode()
        # Unprefixed paths are the default language's, whatever the browser accepts.
        unprefixed = Client().get("/", HTTP_ACCEPT_LANGUAGE="fr")
        assert unprefixed["Content-Language"] == "en"
        assert "<title>Down for maintenance</title>" in unprefixed.content.decode()


class NoLeakTests:
    """Our language is active only while our texts are rendered."""

    @pytest.fixture(autouse=True)
    def _i18n(self, settings: Any) -> None:
        settings.MIDDLEWARE = [MIDDLEWARE, LOCALE_MIDDLEWARE]
        settings.LANGUAGE_CODE = "en"

    @pytest.mark.parametrize("active", [None, "de"])
    def test_503_leaves_the_active_language_alone(self, state_file: Path, active: str | None) -> None:
        if active:
            translation.activate(active)
        before = translation.get_language()
        write(state_file, make_state())
        response, _ = run(factory.get("/", HTTP_ACCEPT_LANGUAGE="fr"), DURING)
        assert TEXTS["fr"]["back"] in response.content.decode()
        assert translation.get_language() == before

    def test_banner_leaves_the_view_and_the_rest_of_the_request_alone(self, state_file: Path) -> None:
        translation.activate("de")
        write(state_file, make_state())
        response, view = run(factory.get("/", HTTP_ACCEPT_LANGUAGE="fr"), BEFORE_START)
        assert TEXTS["fr"]["banner"] in response.content.decode()
        assert view.languages == ["de"]
        assert translation.get_language() == "de"

    def test_project_language_code_is_not_left_active_either(self, state_file: Path, settings: Any) -> None:
        settings.MIDDLEWARE = [MIDDLEWARE]
        settings.LANGUAGE_CODE = "es"
        translation.activate("de")
        write(state_file, make_state())
        response, _ = run(factory.get("/"), DURING)
        assert TEXTS["es"]["back"] in response.content.decode()
        assert translation.get_language() == "de"
