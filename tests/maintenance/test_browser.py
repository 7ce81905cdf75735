"""The banner and the 503 page in a real headless Chromium, with screenshots.

Screenshots are saved in test-artifacts/screenshots/ at the repository root (git-ignored).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from django_deploykit.maintenance.state import MaintenanceState
from django_deploykit.maintenance.stores import FileStore
from tests.browser import SCREENSHOTS
from tests.maintenance.tiny_project import tiny_env, write_tiny_project
from tests.servers import GunicornServer

# One of the longest end-to-end tests: it runs in one tox environment only (tox.ini says which).
pytestmark = pytest.mark.end_to_end


def serve(tmp_path: Path, **env: str) -> Iterator[tuple[GunicornServer, Path]]:
    project = write_tiny_project(tmp_path / "site")
    state_file = tmp_path / "maintenance.json"
    with GunicornServer(
        "tinyproject.wsgi:application", cwd=project, env=tiny_env(state_file, **env), workers=1
    ) as server:
        yield server, state_file


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[GunicornServer, Path]]:
    yield from serve(tmp_path)


@pytest.fixture
def french_site(tmp_path: Path) -> Iterator[tuple[GunicornServer, Path]]:
    """The tiny project with LANGUAGE_CODE = "fr" (and no LocaleMiddleware)."""
    yield from serve(tmp_path, TINY_LANGUAGE_CODE="fr")


def window(start: datetime, **changes: Any) -> MaintenanceState:
    return MaintenanceState(
        start=start,
        end=start + timedelta(minutes=30),
        warn_seconds=3600,
        message="We are moving to a bigger database.",
        set_by="browser-test",
        **changes,
    )


def screenshot(driver: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"maintenance-{name}.png"
    driver.save_screenshot(str(path))
    return path


class BrowserTests:
    def test_banner_is_visible_and_styled_under_a_strict_csp(self, browser: Any, site: Any) -> None:
        from selenium.webdriver.common.by import By

        server, state_file = site
        now = datetime.now(UTC)
        FileStore(state_file).write(window(now + timedelta(minutes=25)))
        time.sleep(1.2)  # the staleness bound
        browser.get(server.url + "/")
        banner = browser.find_element(By.ID, "deploykit-maintenance-banner")
        assert banner.is_displayed()
        assert banner.text.startswith("Maintenance starts at ")
        assert "(in 25 minutes): We are moving to a bigger database." in banner.text
        # The page sends "style-src 'nonce-…'": the banner's style only applies through the nonce.
        assert banner.value_of_css_property("background-color") == "rgba(255, 243, 205, 1)"
        assert browser.find_element(By.TAG_NAME, "h1").text == "Tiny project"
        assert screenshot(browser, "banner").stat().st_size > 0

    def test_503_page(self, browser: Any, site: Any) -> None:
        from selenium.webdriver.common.by import By

        server, state_file = site
        now = datetime.now(UTC)
        FileStore(state_file).write(window(now - timedelta(minutes=1)))
        time.sleep(1.2)
        browser.get(server.url + "/")
        assert browser.title == "Down for maintenance"
        assert browser.find_element(By.TAG_NAME, "h1").text == "Down for maintenance"
        assert (
            browser.find_element(By.ID, "maintenance-message").text == "We are moving to a bigger database."
        )
        back = browser.find_element(By.ID, "maintenance-back-at").text
        assert back.startswith("We expect to be back today at ") or back.startswith(
            "We expect to be back tomorrow at "
        )
        assert "(in 29 minutes)" in back or "(in 30 minutes)" in back
        assert screenshot(browser, "503").stat().st_size > 0

    def test_french_banner_then_503_page(self, browser: Any, french_site: Any) -> None:
        from selenium.webdriver.common.by import By

        server, state_file = french_site
        now = datetime.now(UTC)
        FileStore(state_file).write(window(now + timedelta(minutes=25)))
        time.sleep(1.2)
        browser.get(server.url + "/")
        # French puts a no-break space before the colon; the driver may report it as a space.
        banner = browser.find_element(By.ID, "deploykit-maintenance-banner").text.replace("\xa0", " ")
        # A window 25 minutes ahead starts "demain" when the test runs just before midnight.
        assert banner.startswith(("La maintenance commencera à ", "La maintenance commencera demain à "))
        assert banner.endswith("(dans 25 minutes) : We are moving to a bigger database.")
        assert screenshot(browser, "banner-fr").stat().st_size > 0

        FileStore(state_file).write(window(now - timedelta(minutes=1)))
        time.sleep(1.2)
        browser.get(server.url + "/")
        assert browser.title == "Site en maintenance"
        assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr"
        assert browser.find_element(By.TAG_NAME, "h1").text == "Site en maintenance"
        back = browser.find_element(By.ID, "maintenance-back-at").text
        assert back.startswith(("Retour prévu aujourd\u2019hui à ", "Retour prévu demain à "))
        assert back.endswith(("(dans 29 minutes).", "(dans 30 minutes)."))
        assert screenshot(browser, "503-fr").stat().st_size > 0
