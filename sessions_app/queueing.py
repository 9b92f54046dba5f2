"""Queueing a background task from inside a transaction, on either broker."""

from django.conf import settings
from django.db import transaction
from django_q.tasks import async_task


def queue_in_transaction(func: str, *args) -> None:
    """Queues `func(*args)` for the worker as part of the caller's transaction. With the
    database as the broker (no Redis) the task's row is written in that transaction, so the task
    and the rows written beside it (its audit record, say) land together or not at all. Redis
    knows nothing of the transaction: there the task is sent once it commits, so a worker never
    runs ahead of the rows it reads (a connection test looks up the request that names who
    asked, and found none when it ran first)."""
    if "redis" in settings.Q_CLUSTER:
        transaction.on_commit(lambda: async_task(func, *args))
    else:
        async_task(func, *args)
