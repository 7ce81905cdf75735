from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from django_deploykit.maintenance.visitor_words import clock_and_day_words, duration_words, moment_words

PARIS = ZoneInfo("Europe/Paris")
# 12:00 UTC is 13:00 in Paris in December.
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class DurationWordsTests:
    @pytest.mark.parametrize(
        ("language", "seconds", "words"),
        [
            ("en", 30, "less than a minute"),
            ("en", 26 * 3600 + 60, "1 day 2 hours 1 minute"),
            ("fr", 30, "moins d\u2019une minute"),
            ("fr", 60, "1 minute"),
            ("fr", 3600 + 300, "1 heure 5 minutes"),
            ("fr", 2 * 86400, "2 jours"),
            # After "in" German takes the dative: "in 2 Tagen", "in 1 Tag".
            ("de", 30, "weniger als einer Minute"),
            ("de", 2 * 86400 + 3600, "2 Tagen 1 Stunde"),
            ("de", 86400 + 25 * 60, "1 Tag 25 Minuten"),
            ("es", 30, "menos de un minuto"),
            ("es", 7200 + 60, "2 horas 1 minuto"),
        ],
    )
    def test_words(self, language: str, seconds: int, words: str) -> None:
        with translation.override(language):
            assert duration_words(timedelta(seconds=seconds)) == words


class MomentWordsTests:
    @pytest.mark.parametrize(
        ("language", "offset", "words"),
        [
            ("en", timedelta(hours=1), "today at 14:00"),
            ("en", timedelta(days=4), "on 2026-12-05 at 13:00"),
            ("fr", timedelta(hours=1), "aujourd\u2019hui à 14:00"),
            ("fr", timedelta(days=1), "demain à 13:00"),
            ("fr", timedelta(days=4), "le 5 décembre 2026 à 13:00"),
            ("de", timedelta(days=1), "morgen um 13:00 Uhr"),
            ("de", timedelta(days=4), "am 5. Dezember 2026 um 13:00 Uhr"),
            ("es", timedelta(hours=1), "hoy a las 14:00"),
            ("es", timedelta(days=4), "el 5 de diciembre de 2026 a las 13:00"),
        ],
    )
    def test_words(self, language: str, offset: timedelta, words: str) -> None:
        with translation.override(language):
            assert moment_words(NOW + offset, now=NOW, zone=PARIS) == words

    @pytest.mark.parametrize(
        ("language", "offset", "words"),
        [
            ("en", timedelta(hours=1), "14:00"),
            ("en", timedelta(days=1), "13:00 tomorrow"),
            ("en", timedelta(days=4), "13:00 on 2026-12-05"),
            ("fr", timedelta(days=1), "13:00 demain"),
            ("de", timedelta(days=4), "13:00 Uhr am 5. Dezember 2026"),
            ("es", timedelta(days=4), "13:00 del 5 de diciembre de 2026"),
        ],
    )
    def test_clock_and_day(self, language: str, offset: timedelta, words: str) -> None:
        with translation.override(language):
            assert clock_and_day_words(NOW + offset, now=NOW, zone=PARIS) == words
