"""Posting to real webhook receivers: each format's payload, failures as results, never an exception."""

from __future__ import annotations

import socket
import threading
import time

from django_deploykit.notifications.send import DeployEvent, payload, send, summary
from django_deploykit.notifications.targets import parse_target
from tests.notifications.hooks import Hooks
from tests.servers import free_port

TOKEN = "sntrys_test-token-0123456789abcdef"
START = DeployEvent(
    event="start",
    project="site",
    run_id="20260101T000000Z-abc123",
    ref="main",
    user="ann",
    result="started",
    duration=0.0,
    from_revision="a" * 40,
)
SUCCESS = DeployEvent(
    event="success",
    project="site",
    run_id="20260101T000000Z-abc123",
    ref="main",
    user="ann",
    result="ok",
    duration=42.4,
    revision="b" * 40,
    from_revision="a" * 40,
)
FAILURE = DeployEvent(
    event="failure",
    project="site",
    run_id="20260101T000000Z-abc123",
    ref="main",
    user="ann",
    result="failed",
    duration=3.0,
    from_revision="a" * 40,
    message="The pull stage failed: git fetch https://deploy:hunter22@git.example.org/x.git exited 128",
)


class PayloadTests:
    def test_each_format(self, hooks: Hooks) -> None:
        slack = parse_target({"url": hooks.url("/services/T1/B2/slackpath"), "format": "slack"}, "t")
        plain = parse_target({"url": hooks.url("/plain"), "format": "json"}, "t")
        sentry = parse_target(
            {
                "url": hooks.url("/api/0/organizations/acme/releases/"),
                "format": "sentry",
                "token_env": "SENTRY_T",
                "projects": ["web", "api"],
            },
            "t",
        )

        deliveries = send([slack, plain, sentry], SUCCESS, environ={"SENTRY_T": TOKEN})

        assert [(d.ok, d.detail) for d in deliveries] == [(True, "HTTP 200")] * 3
        [slack_post] = hooks.to("/services/T1/B2/slackpath")
        assert slack_post.body == {"text": f"site: deployed main ({'b' * 12}) by ann in 42 s."}
        assert slack_post.headers["Content-Type"] == "application/json"
        [plain_post] = hooks.to("/plain")
        assert plain_post.body == {
            "event": "success",
            "project": "site",
            "run_id": "20260101T000000Z-abc123",
            "ref": "main",
            "revision": "b" * 40,
            "from_revision": "a" * 40,
            "user": "ann",
            "result": "ok",
            "duration": 42.4,
            "message": "",
        }
        assert "Authorization" not in plain_post.headers
        [release] = hooks.to("/api/0/organizations/acme/releases/")
        assert release.headers["Authorization"] == f"Bearer {TOKEN}"
        assert release.body["version"] == "b" * 40
        assert release.body["projects"] == ["web", "api"]
        assert set(release.body) == {"version", "projects", "dateReleased"}

    def test_a_failure_message_is_redacted_in_the_payload(self) -> None:
        plain = parse_target({"url": "https://example.org/h", "format": "json"}, "t")
        slack = parse_target({"url": "https://example.org/h", "format": "slack"}, "t")
        assert "hunter22" not in str(payload(plain, FAILURE))
        text = payload(slack, FAILURE)["text"]
        assert text.startswith("site: the deploy of main by ann failed after 3 s: The pull stage failed")
        assert "hunter22" not in text

    def test_events_a_target_does_not_want_are_not_sent(self, hooks: Hooks) -> None:
        failures_only = parse_target({"url": hooks.url("/f"), "format": "json", "events": ["failure"]}, "t")
        sentry = parse_target(
            {"url": hooks.url("/s"), "format": "sentry", "token_env": "SENTRY_T", "projects": ["web"]}, "t"
        )
        assert send([failures_only, sentry], START, environ={"SENTRY_T": TOKEN}) == []
        assert hooks.received == []
        [delivery] = send([failures_only, sentry], FAILURE, environ={"SENTRY_T": TOKEN})
        assert delivery.ok
        assert [request.path for request in hooks.received] == ["/f"]


class FailureTests:
    def test_an_error_answer_and_a_refused_port_are_results(self, hooks: Hooks) -> None:
        failing = parse_target({"url": hooks.url("/fail/T1/B2/secretpath"), "format": "slack"}, "t")
        refused = parse_target(
            {
                "url": f"http://127.0.0.1:{free_port()}/services/T1/B2/secretpath",
                "format": "json",
                "name": "ops",
            },
            "t",
        )
        fine = parse_target({"url": hooks.url("/ok"), "format": "json"}, "t")

        deliveries = send([failing, refused, fine], START)

        assert [(d.target, d.ok) for d in deliveries] == [
            (f"http://127.0.0.1:{hooks.port}/…", False),
            ("ops", False),
            (f"http://127.0.0.1:{hooks.port}/…", True),
        ]
        assert deliveries[0].detail == "HTTP 500"
        assert deliveries[1].detail == "connection refused"
        said = summary(deliveries, "start")
        assert said == (
            f"notified 3 targets of the start; 2 failed: http://127.0.0.1:{hooks.port}/… (HTTP 500), "
            "ops (connection refused)"
        )
        assert "secretpath" not in said

    def test_a_sentry_target_without_its_token_is_not_sent(self, hooks: Hooks) -> None:
        sentry = parse_target(
            {"url": hooks.url("/s"), "format": "sentry", "token_env": "SENTRY_T", "projects": ["web"]}, "t"
        )
        [delivery] = send([sentry], SUCCESS, environ={})
        assert (delivery.ok, delivery.detail) == (False, "not sent: the variable SENTRY_T is not set")
        assert hooks.received == []

    def test_a_silent_server_costs_the_timeout_and_the_budget_bounds_the_rest(self) -> None:
        with silent_server() as port:
            slow = [
                parse_target(
                    {"url": f"http://127.0.0.1:{port}/h{n}", "format": "json", "name": f"slow{n}"}, "t"
                )
                for n in range(3)
            ]
            started = time.monotonic()
            deliveries = send(slow, START, timeout=0.5, budget=0.8)
            took = time.monotonic() - started
        assert took < 2.0
        assert [d.ok for d in deliveries] == [False, False, False]
        assert deliveries[0].detail == "no answer within 0.5 s"
        assert deliveries[-1].detail == "not sent: 0.8 s of posting were spent"


def silent_server() -> SilentServer:
    return SilentServer()


class SilentServer:
    """A listening socket on 127.0.0.1 that accepts connections and never answers."""

    def __enter__(self) -> int:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.stop = threading.Event()
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()
        port: int = self.sock.getsockname()[1]
        return port

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                connection, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted.append(connection)

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        for connection in self.accepted:
            connection.close()
        self.sock.close()
