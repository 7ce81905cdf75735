"""deploy end to end: gunicorn serves live throughout, under load, with the cache in Redis."""

from __future__ import annotations

import json
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis

from django_deploykit.demo.load import Load
from django_deploykit.deploy_root import history
from tests.deploy.deploying import commit_v2, deploy_json, note_columns
from tests.deployment import Site
from tests.servers import serve

# One of the longest end-to-end tests: it runs in one tox environment only (tox.ini says which).
pytestmark = pytest.mark.end_to_end

RELOAD = json.dumps(
    {
        "live": {"adapter": "gunicorn", "pidfile": "run/live.pid"},
        "stage": {"adapter": "gunicorn", "pidfile": "run/stage.pid"},
    }
)
# A Redis database of these tests' own: clear_cache deletes every key of the old slot's prefix.
REDIS_DB = 9


@pytest.mark.redis
class DeployEndToEndTests:
    def test_deploy_with_gunicorn_serving_live_throughout(self, site: Site, redis_url: str) -> None:
        # A project on Redis lists its client in its requirements; both slots install it with pip.
        for slot in site.root.slot_names:
            site.pip_install(slot, "redis>=5.0")
        parts = urlsplit(redis_url)
        cache_url = urlunsplit((parts.scheme, parts.netloc, f"/{REDIS_DB}", "", ""))
        serve(site, "live", "stage", urls=("live", "stage"), DEPLOYKIT_RELOAD=RELOAD, CACHE_URL=cache_url)
        site.manage("live", "shell", "-c", "from django.core.cache import cache; cache.set('e2e-old-key', 1)")
        store = redis.Redis.from_url(cache_url)
        assert store.keys("mysite_blue:*e2e-old-key")
        v2 = commit_v2(site)

        with Load(site.url("live", "/")) as load:
            code, outcome = deploy_json(site)

        assert code == 0, outcome
        assert load.result.requests > 20
        assert load.result.failures == []
        served = site.revision("live")
        assert (served["slot"], served["revision"]) == ("green", v2)
        assert site.revision("stage")["slot"] == "blue"
        assert "body" not in note_columns(site)
        assert store.keys("mysite_blue:*e2e-old-key") == []
        statuses = {stage["name"]: stage["status"] for stage in outcome["stages"]}
        assert statuses["clear-old-cache"] == "ok"
        kinds = [record.kind for record in history.read(site.root)]
        assert kinds[-3:] == ["pull", "swap", "deploy"]
