"""A task queued inside a transaction: with the database as the broker it is written in the
transaction; with Redis, sent only once the transaction commits, never before the rows it reads."""

import pytest
from django.db import transaction
from django_q.models import OrmQ

from sessions_app import queueing

pytestmark = pytest.mark.django_db

TASK = "sessions_app.tasks.refresh_live_counts_task"


def test_with_the_database_as_broker_the_task_lands_with_the_transaction():
    with transaction.atomic():
        queueing.queue_in_transaction(TASK, 1)
        assert OrmQ.objects.count() == 1  # written beside the caller's rows, not after
    with pytest.raises(RuntimeError), transaction.atomic():
        queueing.queue_in_transaction(TASK, 2)
        raise RuntimeError("the caller's transaction fails")
    assert [entry.task["args"] for entry in OrmQ.objects.all()] == [(1,)]


def test_with_redis_the_task_is_sent_once_the_transaction_commits(
    monkeypatch, settings, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(queueing, "async_task", lambda func, *args: sent.append((func, args)))
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": "redis://127.0.0.1:6379/0"}
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        queueing.queue_in_transaction(TASK, 3)
        assert sent == []  # a worker could otherwise run before these rows are visible
    assert sent == [(TASK, (3,))]
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        queueing.queue_in_transaction(TASK, 4)
        raise RuntimeError("rolled back")
    assert sent == [(TASK, (3,))] and not callbacks
