"""A real django-q2 cluster, in its own process, running a queued sync through each broker:
the database (the default) and Redis (when REDIS_URL is set)."""

import os
import signal
import subprocess
import sys
import time

import pytest
import redis

from sessions_app.models import Session, SyncRun
from tests.helpers.glance import make_partner
from tests.helpers.processes import ROOT, database_url

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_or_skip():
    try:
        client = redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.flushdb()  # a queue left by an earlier, interrupted run must not leak in
    except redis.RedisError as exc:
        if os.environ.get("REQUIRE_REDIS") == "1":
            raise
        pytest.skip(f"Redis at {REDIS_URL} is unreachable ({exc}); the Redis broker is untested")


def start_cluster(env):
    return subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop_cluster(proc):
    proc.terminate()  # the main process only: it stops its workers; signalling them too hangs it
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:  # the cluster can hang on shutdown
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_for_run(seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = SyncRun.objects.filter(state__in=["succeeded", "failed"]).first()
        if run:
            return run
        time.sleep(0.5)
    raise AssertionError(f"no sync finished within {seconds}s")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", ["database", "redis"])
def test_a_real_cluster_runs_a_queued_sync(glance, broker):
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": ""}
    if broker == "redis":
        redis_or_skip()
        env["REDIS_URL"] = REDIS_URL
    partner = make_partner(glance)
    enqueue = (
        "from django_q.tasks import async_task; "
        f"async_task('sessions_app.tasks.sync_partner_task', {partner.pk})"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", enqueue],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
    )
    cluster = start_cluster(env)
    try:
        run = wait_for_run()
    finally:
        stop_cluster(cluster)
    assert (run.trigger, run.state) == ("schedule", "succeeded"), run.error
    assert Session.objects.filter(partner=partner).count() == run.sessions_created > 0
