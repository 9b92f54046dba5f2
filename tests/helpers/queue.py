"""Running what the web queued, as the django-q2 worker would: the real task functions, by name,
with the arguments the product queued (the tests run no cluster)."""

from importlib import import_module

from django_q.models import OrmQ


def queued(func: str) -> list[tuple]:
    """The argument tuples of the queued calls of `func`, oldest first."""
    return [q.task["args"] for q in OrmQ.objects.order_by("id") if q.task["func"] == func]


def run_queued(func: str) -> list:
    """Runs and removes every queued call of `func`; returns their results."""
    module, name = func.rsplit(".", 1)
    target = getattr(import_module(module), name)
    results = []
    for entry in OrmQ.objects.order_by("id"):
        if entry.task["func"] == func:
            results.append(target(*entry.task["args"], **entry.task.get("kwargs", {})))
            entry.delete()
    return results
