"""Static files across a swap: one shared, add-only STATIC_ROOT with a manifest per slot.

The example project uses SlotManifestStaticFilesStorage, as docs/adopting.md says. Pages come
from real gunicorn servers; their hashed assets from a plain file server over STATIC_ROOT, as
nginx or Apache would serve it.
"""

from __future__ import annotations

import functools
import json
import re
import threading
import urllib.request
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.deploy.deploying import deploy_json
from tests.deploy_pull.pulling import deploy_pull_json
from tests.deployment import NOTES_INDEX, Site, commit_file, commit_files
from tests.servers import free_port, serve

# One of the longest end-to-end tests: it runs in one tox environment only (tox.ini says which).
pytestmark = pytest.mark.end_to_end

RELOAD = json.dumps(
    {
        "live": {"adapter": "gunicorn", "pidfile": "run/live.pid"},
        "stage": {"adapter": "gunicorn", "pidfile": "run/stage.pid"},
    }
)
CSS = "example_project/notes/static/notes/site.css"
ASSET = re.compile(r'href="/static/(?P<path>notes/site\.[0-9a-f]{12}\.css)"')


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def static_server(site: Site) -> Iterator[str]:
    """A file server over STATIC_ROOT, the way the front web server serves /static/."""
    root = site.root.shared_dir / "static"
    root.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def asset_of(site: Site, link: str) -> str:
    with urllib.request.urlopen(site.url(link, "/"), timeout=10) as response:  # noqa: S310 (local)
        match = ASSET.search(response.read().decode())
    assert match, f"the {link} page names no hashed stylesheet"
    return match["path"]


def loads(static_url: str, path: str) -> bytes:
    with urllib.request.urlopen(static_url + path, timeout=10) as response:  # noqa: S310 (local)
        body: bytes = response.read()
        return body


def release(site: Site, colour: str) -> None:
    commit_file(site.source, CSS, f"body {{ color: {colour}; }}\n", f"stylesheet: {colour}")


class StaticAcrossSwapTests:
    def test_both_slots_pages_load_their_assets_across_swaps_and_prune_keeps_them(
        self, site: Site, static_server: str
    ) -> None:
        serve(site, "live", "stage", urls=("live", "stage"), DEPLOYKIT_RELOAD=RELOAD)
        template = (site.source / NOTES_INDEX).read_text()
        commit_files(
            site.source,
            {
                CSS: "body { color: red; }\n",
                NOTES_INDEX: '{% load static %}<link rel="stylesheet" href="{% static "notes/site.css" %}">\n'
                + template,
            },
            "v2: a stylesheet",
        )
        code, outcome = deploy_json(site)
        assert code == 0, outcome
        red = asset_of(site, "live")
        assert b"red" in loads(static_server, red)

        # v3 is pulled into the stage slot: its asset is served before it goes live...
        release(site, "blue")
        code, pulled = deploy_pull_json(site)
        assert code == 0, pulled
        blue = asset_of(site, "stage")
        assert blue != red
        assert b"blue" in loads(static_server, blue)
        # ...and a page the old slot rendered keeps loading its own after the swap.
        page_before_swap = asset_of(site, "live")
        assert site.manage("live", "swap_live", check=False).returncode == 0
        assert asset_of(site, "live") == blue
        assert b"red" in loads(static_server, page_before_swap)
        assert asset_of(site, "stage") == red

        # v4: the v2 stylesheet is now referenced by no slot, and only it is pruned.
        release(site, "green")
        code, outcome = deploy_json(site)
        assert code == 0, outcome
        green = asset_of(site, "live")
        pruned = site.manage("live", "prune_static", "--format", "json", check=False)
        assert pruned.returncode == 0, pruned.stderr
        removed = json.loads(pruned.stdout)["removed"]
        assert red in removed
        assert blue not in removed
        assert green not in removed
        assert b"blue" in loads(static_server, blue)
        assert b"green" in loads(static_server, green)
        assert not (site.root.shared_dir / "static" / red).exists()

    def test_prune_refuses_while_a_slot_has_no_manifest(self, site: Site) -> None:
        static_root = site.root.shared_dir / "static"
        (static_root / "notes").mkdir(parents=True)
        (static_root / "notes" / "old.0123456789ab.css").write_text("old")
        before = sorted(path.name for path in static_root.rglob("*"))

        completed = site.manage("live", "prune_static", check=False)

        assert completed.returncode == 1
        assert "without a manifest for every slot" in completed.stderr
        assert sorted(path.name for path in static_root.rglob("*")) == before
        assert not Path(static_root / "staticfiles-blue.json").exists()
