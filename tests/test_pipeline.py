"""Reading ahead keeps order, raises where the failure was, and stops when the reader leaves."""

import threading
import time

import pytest

from sessions_app.sync.pipeline import ahead


def test_items_come_in_order():
    assert list(ahead(iter(range(50)), depth=3)) == list(range(50))


def test_a_failure_is_raised_where_its_item_would_have_been():
    def pages():
        yield 1
        yield 2
        raise ValueError("page 3 is malformed")

    got = []
    with pytest.raises(ValueError, match="page 3"):
        for item in ahead(pages()):
            got.append(item)
    assert got == [1, 2]


def test_leaving_early_stops_the_reader():
    produced = []

    def endless():
        n = 0
        while True:
            produced.append(n)
            yield n
            n += 1

    for item in ahead(endless(), depth=2):
        if item == 3:
            break
    time.sleep(0.3)
    count = len(produced)
    time.sleep(0.3)
    assert len(produced) == count <= 3 + 2 + 2  # read at most a few ahead, then stopped
    # Other tests' threads may come and go meanwhile, so look for ours by name only.
    assert not [t for t in threading.enumerate() if t.name == "glance-read-ahead"]
