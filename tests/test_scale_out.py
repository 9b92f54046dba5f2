"""The documented scale-out, run for real: PostgreSQL, Redis as django-q2's broker and as the
shared cache, two `qcluster` processes and two gunicorn processes.

Three partners sync at once (each queued twice, so both clusters reach for the same partner)
while both web processes serve pages. Then: every session is stored exactly once, each
partner's completeness check (Glance's own counts) says complete, a chart cached by one web
process is what the other serves, and after more sessions arrive neither serves it stale."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time as clock
from datetime import UTC, datetime, time, timedelta

import orjson
import pytest
import redis
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django_q.models import Schedule, Task

from glance_sim import PartnerSpec, Simulator, serve_in_thread
from sessions_app.models import Partner, Session
from sessions_app.sync.completeness import completeness
from tests.helpers.glance import SIM_NOW
from tests.helpers.processes import ROOT, database_url
from tests.test_cluster import REDIS_URL, redis_or_skip, start_cluster, stop_cluster

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

IDS = (71, 72, 73)
SYNC_TASK = "sessions_app.tasks.sync_partner_task"
CHART = "outcomes"
PASSWORD = "scale-out-" + os.urandom(6).hex()


@pytest.fixture(scope="module")
def source():
    simulator = Simulator(
        [PartnerSpec(i, f"key-{i}", 300, 6, steady=True) for i in IDS],
        seed=17,
        now=SIM_NOW,
        history_days=20,
    )
    server = serve_in_thread(simulator)
    yield simulator, server.url
    server.stop()


@pytest.fixture
def stack():
    """The environment both kinds of process share, and a way to start each; all stopped after."""
    if connection.vendor != "postgresql":
        pytest.skip("the scale-out path is PostgreSQL's; SQLite is one machine's database")
    redis_or_skip()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": REDIS_URL,
        "GLANCE_ALLOW_HTTP": "true",
        "OUTBOUND_ALLOWED_ADDRESSES": "127.0.0.0/8",  # the simulator, on loopback
        "GLANCE_PAGE_SIZE": "200",
        "GLANCE_QUICK_SYNC_MINUTES": "0",  # the queued passes alone, so the test knows its work
        "LOG_LEVEL": "WARNING",
    }
    clusters, webs = [], []
    yield env, clusters, webs
    for cluster in clusters:
        stop_cluster(cluster)
    for web in webs:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(15)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_web(env, webs) -> str:
    port = _free_port()
    webs.append(
        subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "glancedash.wsgi", "--workers", "1",
             "--threads", "4", "--bind", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = clock.monotonic() + 60
    while clock.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=10).status_code == 200:
                return url
        # Not listening yet, or still loading Django on a busy machine (CI's two test workers).
        except (requests.ConnectionError, requests.Timeout):
            clock.sleep(0.3)
    raise AssertionError(f"gunicorn on {url} did not start")


def _login(url: str) -> requests.Session:
    browser = requests.Session()
    browser.get(f"{url}/login/", timeout=10)
    answer = browser.post(
        f"{url}/login/",
        data={
            "username": "lead",
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"Referer": f"{url}/login/"},
        timeout=10,
    )
    assert answer.status_code == 200 and "/login/" not in answer.url, answer.text[:300]
    return browser


def _enqueue(env, partners, times: int) -> None:
    calls = "; ".join(
        f"async_task('{SYNC_TASK}', {partner.pk})" for partner in partners for _ in range(times)
    )
    script = f"from django_q.tasks import async_task; {calls}"
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT, env=env, check=True, timeout=60,
    )  # fmt: skip


def _wait_for_tasks(count: int, seconds: int = 240) -> None:
    deadline = clock.monotonic() + seconds
    while clock.monotonic() < deadline:
        if Task.objects.filter(func=SYNC_TASK).count() >= count:
            return
        clock.sleep(0.5)
    raise AssertionError(f"{count} syncs did not finish within {seconds}s")


class _Reader(threading.Thread):
    """Pages and a chart asked of both web processes in turn, until told to stop."""

    def __init__(self, browsers):
        super().__init__(daemon=True)
        self.browsers, self.answers, self.done = browsers, [], threading.Event()

    def run(self):
        turn = 0
        while not self.done.is_set():
            (url, browser) = self.browsers[turn % len(self.browsers)]
            for path in ("/", f"/charts/{CHART}/?preset=90d", "/sessions/?preset=90d"):
                self.answers.append((url, path, browser.get(url + path, timeout=30).status_code))
            turn += 1


def _chart(url, browser) -> dict:
    answer = browser.get(f"{url}/charts/{CHART}/?preset=90d", timeout=30)
    assert answer.status_code == 200
    return orjson.loads(answer.content)


def _stored_once_and_all_served(simulator, partner) -> None:
    stored = list(Session.objects.filter(partner=partner).values_list("glance_id", flat=True))
    start = datetime.combine(partner.backfill_start, time.min, tzinfo=UTC)
    served = {
        s["id"]
        for s in simulator.completed_sessions(partner.glance_partner_id, start, simulator.now)
    }
    assert len(stored) == len(set(stored)), "a session was stored twice"
    assert set(stored) == served, (len(set(stored) - served), len(served - set(stored)))


def test_two_clusters_and_two_web_processes_on_postgresql_and_redis(stack, source):
    simulator, glance_url = source
    env, clusters, webs = stack
    simulator.now = SIM_NOW - timedelta(hours=6)  # phase two brings the last six hours
    partners = []
    for glance_id in IDS:
        partner = Partner(
            name=f"Scale {glance_id}",
            glance_partner_id=glance_id,
            api_url=glance_url,
            backfill_start=(SIM_NOW - timedelta(days=8)).date(),
        )
        partner.set_api_key(f"key-{glance_id}")
        partner.save()
        partners.append(partner)
    # Their schedules would queue passes of their own, whenever due: the test queues its own.
    Schedule.objects.all().delete()
    get_user_model().objects.create(
        username="lead",
        is_superuser=True,
        is_staff=True,
        # The web processes' own hasher: the test settings' fast one is not among theirs.
        password=PBKDF2PasswordHasher().encode(PASSWORD, "scaleoutsalt", iterations=1000),
    )

    webs_urls = [_start_web(env, webs), _start_web(env, webs)]
    browsers = [(url, _login(url)) for url in webs_urls]
    _enqueue(env, partners, times=2)  # each partner twice: the clusters race for the claims
    clusters.extend([start_cluster(env), start_cluster(env)])
    reader = _Reader(browsers)
    reader.start()
    try:
        _wait_for_tasks(len(partners) * 2)
    finally:
        reader.done.set()
        reader.join(60)

    failed = [a for a in reader.answers if a[2] != 200]
    assert reader.answers and not failed, failed[:5]
    assert {url for url, _, _ in reader.answers} == set(webs_urls)  # both served pages
    for partner in partners:
        _stored_once_and_all_served(simulator, partner)
        assert completeness(partner).state == "complete"

    # One cache for both: what the first web process cached, the second serves.
    first, second = browsers
    store = redis.from_url(REDIS_URL)
    store.delete(*store.keys(":1:chart:*"))  # the charts cached while the syncs ran
    before = _chart(*first)
    (key,) = [k.decode().split(":", 2)[2] for k in store.keys(":1:chart:*")]
    assert _chart(*second) == before
    cache = RedisCache(REDIS_URL, {})
    marked = {**before, "scale_out_marker": True}
    cache.set(key, orjson.dumps(marked), 600)
    assert _chart(*second) == marked and _chart(*first) == marked

    # Six more hours of sessions, synced by a cluster: neither web process serves the old chart.
    simulator.now = SIM_NOW
    _enqueue(env, partners[:1], times=1)
    _wait_for_tasks(len(partners) * 2 + 1)
    _stored_once_and_all_served(simulator, partners[0])
    after = [_chart(*first), _chart(*second)]
    assert after[0] == after[1] and "scale_out_marker" not in after[0] and after[0] != before
