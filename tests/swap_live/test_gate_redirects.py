"""The revision endpoint as a client: the token goes only where the settings point, and a server that answers
nonsense is an error the callers report, never a traceback."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator

import pytest

from django_deploykit.servers.endpoints import revision_endpoint

TOKEN = "token-" + "x" * 40


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str | None]] = []

    def do_GET(self) -> None:
        host = self.headers.get("Host", "")
        self.seen.append((host, self.path, self.headers.get("X-Deploykit-Token")))
        if self.path.startswith("/elsewhere"):
            # Same server, reached by another host name: another origin for the client.
            self.send_response(302)
            self.send_header("Location", f"http://localhost:{self.server.server_port}/revision/")
            self.end_headers()
            return
        if self.path.startswith("/garbage"):
            self.wfile.write(b"NOT HTTP AT ALL\r\n\r\n")
            return
        if self.path.startswith("/list"):
            body = b"[1, 2]"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if self.path.startswith("/same"):
            self.send_response(302)
            self.send_header("Location", "/revision/")
            self.end_headers()
            return
        body = json.dumps({"revision": "abc"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[http.server.HTTPServer]:
    _Recorder.seen = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


class RedirectTests:
    def test_a_redirect_to_another_host_does_not_carry_the_token(
        self, server: http.server.HTTPServer
    ) -> None:
        port = server.server_port
        assert revision_endpoint(f"http://127.0.0.1:{port}/elsewhere/", 5, TOKEN) == {"revision": "abc"}
        assert _Recorder.seen == [
            (f"127.0.0.1:{port}", "/elsewhere/", TOKEN),
            (f"localhost:{port}", "/revision/", None),
        ]

    def test_a_redirect_on_the_same_origin_keeps_it(self, server: http.server.HTTPServer) -> None:
        port = server.server_port
        assert revision_endpoint(f"http://127.0.0.1:{port}/same/", 5, TOKEN) == {"revision": "abc"}
        assert [token for _, _, token in _Recorder.seen] == [TOKEN, TOKEN]


class NonsenseTests:
    @pytest.mark.parametrize(
        ("path", "message"), [("/garbage/", "BadStatusLine"), ("/list/", "not a JSON object")]
    )
    def test_an_answer_that_is_not_a_revision_is_a_value_error(
        self, server: http.server.HTTPServer, path: str, message: str
    ) -> None:
        with pytest.raises(ValueError, match=message):
            revision_endpoint(f"http://127.0.0.1:{server.server_port}{path}", 5, TOKEN)
