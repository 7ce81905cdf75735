"""The deploy console in Debian's chromium, against real gunicorn servers in a deploy root.

One story, in order, because each deploy takes a while: an anonymous visitor is sent to sign in; a
view-only user sees no action and a forged POST gets 403; a push user deploys v2 from the page and
watches the stages turn green and the log grow, across the swap that reloads the very server the page
is served by; a deploy whose smoke test fails after the swap shows red with its log and the advice; a
rollback from the page puts v2 back; a CI token starts a deploy of v3 and polls it to the end.

Screenshots of the main pages go to test-artifacts/screenshots/console-*.png (not committed).
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from django_deploykit.deploy_root import history
from tests.browser import SCREENSHOTS
from tests.deploy.deploying import commit_v2
from tests.deployment import Site, commit_file, migrated_site
from tests.servers import serve

__all__ = ["migrated_site"]

# One of the longest end-to-end tests: it runs in one tox environment only (tox.ini says which).
pytestmark = pytest.mark.end_to_end

RELOAD = json.dumps(
    {
        "live": {"adapter": "gunicorn", "pidfile": "run/live.pid"},
        "stage": {"adapter": "gunicorn", "pidfile": "run/stage.pid"},
    }
)
CONSOLE = "/-/deploykit/console/"
# A smoke test that fails after the swap: the new code is live, the deploy stops with its advice.
FAILING_PIPELINE = json.dumps(
    [
        "notify",
        "maintenance-on",
        "pull",
        "swap",
        {
            "name": "smoke-test",
            "argv": [sys.executable, "-c", "print('smoke test: /health answered 500'); exit(3)"],
        },
        "migrate-destructive",
        "clear-old-cache",
        "maintenance-off",
    ]
)
USERS = """
from django.contrib.auth.models import Group, Permission, User
deployers = Group.objects.create(name="deployers")
deployers.permissions.add(Permission.objects.get(codename="push_deploys"))
User.objects.create_user("alice", password="alice-pw").groups.add(deployers)
User.objects.create_user("victor", password="victor-pw").user_permissions.add(
    Permission.objects.get(codename="view_deploys")
)
"""
DEPLOY_TIMEOUT = 240.0


def shot(driver: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"console-{name}.png"))


def sign_in(driver: Any, site: Site, user: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(site.url("live", CONSOLE))
    assert "/login/" in driver.current_url
    driver.find_element(By.ID, "id_username").send_keys(user)
    driver.find_element(By.ID, "id_password").send_keys(f"{user}-pw")
    driver.find_element(By.ID, "sign-in").click()
    try:
        wait_for(
            lambda: driver.current_url.endswith(CONSOLE) and driver.find_elements(By.ID, "slots"),
            15,
            "the state page after signing in",
        )
    except AssertionError as exc:
        raise AssertionError(
            f"{exc}; the browser shows {driver.current_url}:\n{driver.page_source[:3000]}"
        ) from None


def sign_out(driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.XPATH, "//button[text()='Sign out']").click()
    wait_for(lambda: "/login/" in driver.current_url, 15, "the sign-in page after signing out")


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception:  # noqa: S110 (a page that is being reloaded; ask again)
            pass
        time.sleep(0.25)
    raise AssertionError(f"waited {timeout:g} s for {what}")


def watch_run(driver: Any, timeout: float = DEPLOY_TIMEOUT) -> dict[str, Any]:
    """Watch the run page until the run ends; what the page showed on the way."""
    from selenium.webdriver.common.by import By

    seen: dict[str, Any] = {
        "statuses": set(),
        "log_sizes": [],
        "running_stages": set(),
        "child_stages": set(),
    }
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = driver.find_element(By.ID, "run-state").text
            for stage in driver.find_elements(By.CSS_SELECTOR, "details.stage"):
                status = stage.find_element(By.CSS_SELECTOR, ".status").get_attribute("textContent")
                seen["statuses"].add(status)
                if status == "running":
                    seen["running_stages"].add(stage.get_attribute("id"))
            for badge in driver.find_elements(By.CSS_SELECTOR, "details.stage .child .status"):
                seen["child_stages"].add(badge.get_attribute("textContent"))
            size = sum(
                len(pre.get_attribute("textContent") or "")
                for pre in driver.find_elements(By.CSS_SELECTOR, "details.stage pre")
            )
            seen["log_sizes"].append(size)
        except Exception:
            time.sleep(0.2)
            continue
        if state not in ("running", "starting"):
            seen["state"] = state
            return seen
        time.sleep(0.3)
    raise AssertionError(f"the run did not end within {timeout:g} s; the page showed {seen}")


def start_from_page(driver: Any, button: str, landing: str = "") -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, button).click()
    wait_for(lambda: driver.find_elements(By.ID, "confirm"), 15, "the confirmation page")
    driver.find_element(By.ID, "confirm").click()
    if landing:
        wait_for(lambda: landing in driver.page_source, 60, landing)
    else:
        wait_for(lambda: "/runs/" in driver.current_url, 15, "the run's page")


def page_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (a local http URL)
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def api(url: str, token: str, body: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 (a local http URL)
        url,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class ConsoleInABrowserTests:
    def test_the_console_from_sign_in_to_a_ci_deploy(self, site: Site, browser: Any) -> None:
        from selenium.webdriver.common.by import By

        site.manage("live", "shell", "-c", USERS)
        serve(site, "live", "stage", urls=("live", "stage"), DEPLOYKIT_RELOAD=RELOAD)
        v1 = site.revision("live")["revision"]
        v2 = commit_v2(site)

        # Anonymous: sent to sign in, from every page.
        browser.get(site.url("live", CONSOLE + "history/"))
        assert "/login/" in browser.current_url
        assert "next=" in browser.current_url
        shot(browser, "sign-in")

        # View only: the pages, no action; a forged POST (with a valid CSRF token) is refused.
        sign_in(browser, site, "victor")
        assert browser.find_elements(By.ID, "slots")
        assert not browser.find_elements(By.ID, "deploy-button")
        status = browser.execute_async_script(
            """
            const done = arguments[arguments.length - 1];
            const token = document.cookie.split("; ").find(c => c.startsWith("csrftoken=")).split("=")[1];
            fetch(arguments[0], {method: "POST", credentials: "same-origin",
                   headers: {"X-CSRFToken": token, "Content-Type": "application/x-www-form-urlencoded"},
                   body: "ref=main&confirmed=yes"}).then(r => done(r.status));
            """,
            CONSOLE + "deploy/",
        )
        assert status == 403
        assert [record.kind for record in history.read(site.root)] == ["init"]
        sign_out(browser)

        # Push: deploy v2 from the page and watch it.
        sign_in(browser, site, "alice")
        shot(browser, "state-before")
        browser.find_element(By.ID, "deploy_ref").clear()
        browser.find_element(By.ID, "deploy_ref").send_keys("main")
        start_from_page(browser, "deploy-button")
        time.sleep(1.5)
        shot(browser, "run-live")
        seen = watch_run(browser)
        assert seen["state"] == "ok", seen
        assert "running" in seen["statuses"], seen
        assert len(seen["running_stages"]) >= 2, seen
        # The pull's own stages showed under the deploy's pull stage while it ran.
        assert {"git", "dependencies"} <= seen["child_stages"], seen
        sizes = seen["log_sizes"]
        assert len(set(sizes)) >= 3, "the log did not grow as the run went on"
        assert sizes[-1] > sizes[0], "the log did not grow as the run went on"
        wait_for(lambda: browser.find_element(By.ID, "run-state").text == "ok", 20, "the finished page")
        statuses = [
            e.get_attribute("textContent")
            for e in browser.find_elements(By.CSS_SELECTOR, "details.stage > summary .status")
        ]
        assert statuses, "no stage on the finished page"
        assert set(statuses) <= {"ok", "skipped"}, statuses
        shot(browser, "run-ok")
        served = site.revision("live")
        assert (served["slot"], served["revision"]) == ("green", v2)
        deploy = [r for r in history.read(site.root) if r.kind == "deploy"][-1]
        assert deploy.result == "ok"
        assert deploy.user.startswith("alice (console, as ")
        assert deploy.to_revision == v2

        # A deploy whose smoke test fails after the swap: red, with its log and what to do next.
        v3 = commit_file(site.source, "example_project/notes/RELEASE.txt", "v3\n", "v3: a release note")
        site.write_env(
            DEPLOYKIT_LIVE_URL=site.url("live"),
            DEPLOYKIT_STAGE_URL=site.url("stage"),
            DEPLOYKIT_RELOAD=RELOAD,
            DEPLOYKIT_DEPLOY_PIPELINE=FAILING_PIPELINE,
        )
        browser.get(site.url("live", CONSOLE))
        start_from_page(browser, "deploy-button")
        seen = watch_run(browser)
        assert seen["state"] == "failed", seen
        wait_for(lambda: browser.find_elements(By.ID, "next-steps"), 20, "the advice of the failed run")
        failed = browser.find_element(
            By.XPATH, "//details[contains(@class,'stage')][.//strong[contains(., 'smoke-test')]]"
        )
        assert failed.find_element(By.CSS_SELECTOR, ".status").text == "failed"
        assert "smoke test: /health answered 500" in failed.find_element(
            By.CSS_SELECTOR, "pre"
        ).get_attribute("textContent")
        advice = browser.find_element(By.ID, "next-steps").text
        assert "--resume-from" in advice, advice
        assert "rollback" in advice, advice
        assert browser.find_element(By.ID, "resume-button").text == "Resume at smoke-test…"
        shot(browser, "run-failed")
        assert site.revision("live")["revision"] == v3

        # Roll back from the failed run's page: v2 is live again.
        start_from_page(browser, "swap-back-button")
        seen = watch_run(browser)
        assert seen["state"] == "ok", seen
        assert site.revision("live")["revision"] == v2
        rollback = [r for r in history.read(site.root) if r.kind == "rollback"][-1]
        assert rollback.result == "ok"
        assert rollback.user.startswith("alice (console")

        # The history, on a laptop and on a phone.
        browser.get(site.url("live", CONSOLE + "history/"))
        assert browser.find_elements(By.CSS_SELECTOR, "span.status-failed")
        shot(browser, "history")
        browser.set_window_size(390, 844)
        browser.get(site.url("live", CONSOLE + f"runs/{deploy.id}/"))
        shot(browser, "run-phone")
        browser.set_window_size(1200, 800)

        # CI: a token made on the page starts a deploy of v3 (the pipeline back to the default) and polls it.
        site.write_env(
            DEPLOYKIT_LIVE_URL=site.url("live"),
            DEPLOYKIT_STAGE_URL=site.url("stage"),
            DEPLOYKIT_RELOAD=RELOAD,
        )
        browser.get(site.url("live", CONSOLE + "tokens/"))
        browser.find_element(By.ID, "token-name").send_keys("ci-main")
        browser.find_element(By.ID, "create-token").click()
        wait_for(lambda: browser.find_elements(By.ID, "token-value"), 15, "the new token")
        token = browser.find_element(By.ID, "token-value").text.strip()
        code, started = api(site.url("live", CONSOLE + "api/deploys/"), token, {"ref": "main"})
        assert code == 202, started
        deadline = time.monotonic() + DEPLOY_TIMEOUT
        polled: dict[str, Any] = {}
        while time.monotonic() < deadline:
            try:
                code, polled = api(started["status_url"], token)
            except OSError:  # the server that answers is being swapped
                time.sleep(0.5)
                continue
            if code == 200 and polled["finished"]:
                break
            time.sleep(1)
        assert polled.get("state") == "ok", polled
        assert site.revision("live")["revision"] == v3
        ci = [r for r in history.read(site.root) if r.kind == "deploy"][-1]
        assert ci.id == started["run_id"]
        assert ci.user.startswith("alice (console")
        assert v1 != v3

        # Maintenance from the page: the site answers 503, the console keeps answering, then it ends.
        from selenium.webdriver.support.ui import Select

        browser.get(site.url("live", CONSOLE))
        Select(browser.find_element(By.ID, "maintenance_action")).select_by_value("start")
        browser.find_element(By.ID, "maintenance_duration").send_keys("20m")
        browser.find_element(By.ID, "maintenance_message").send_keys("Moving the catalogue")
        start_from_page(browser, "maintenance-button", landing="Done: maintenance")
        assert page_status(site.url("live", "/")) == 503
        browser.get(site.url("live", CONSOLE))
        assert "active" in browser.find_element(By.ID, "maintenance").text
        shot(browser, "state-maintenance")
        Select(browser.find_element(By.ID, "maintenance_action")).select_by_value("end")
        start_from_page(browser, "maintenance-button", landing="Done: maintenance")
        wait_for(lambda: page_status(site.url("live", "/")) == 200, 15, "the site after the window")

        # deploy_check from the page: its findings replace "not run yet" on the state page.
        browser.get(site.url("live", CONSOLE))
        start_from_page(browser, "check-button", landing="Done: deploy_check")

        def checked() -> bool:
            browser.get(site.url("live", CONSOLE))
            return "live at " in browser.find_element(By.ID, "checks").text

        wait_for(checked, 90, "deploy_check's findings on the state page")
        shot(browser, "state-checked")

        # A run page left open when its user signs out (here in another tab): it says so and stops asking.
        from django_deploykit.deploy_root.run import Run

        going_on = Run(site.root, "deploy")
        going_on.stages(1, lambda line: None, planned=["waiting"])
        browser.get(site.url("live", CONSOLE + f"runs/{going_on.id}/"))
        assert browser.find_element(By.ID, "run-state").text == "running"
        browser.execute_async_script(
            """
            const done = arguments[arguments.length - 1];
            const token = document.cookie.split("; ").find(c => c.startsWith("csrftoken=")).split("=")[1];
            fetch(arguments[0], {method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": token}})
              .then(() => done());
            """,
            CONSOLE + "logout/",
        )
        wait_for(lambda: browser.find_elements(By.ID, "stopped"), 15, "the page to say it stopped updating")
        assert "signed out" in browser.find_element(By.ID, "stopped").text
        actions = [
            entry["action"] for entry in map(json.loads, site.root.audit_file.read_text().splitlines())
        ]
        assert actions.count("maintenance") == 2
