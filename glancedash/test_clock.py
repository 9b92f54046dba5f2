"""A test-only hook: a process that the test suite starts under `pytest --clock=…` runs on the
suite's moved wall clock, not the machine's.

The suite sets GLANCEDASH_TEST_CLOCK_OFFSET to how far (in seconds) its clock stands from the
real one; manage.py and `python -m glance_sim` call `follow()` before anything reads the time, so
a `sync_glance` or a simulator the tests start agree with the test that started them. The clock
then ticks on from there. Nothing in production sets the variable, and time-machine is a
development dependency only: a process asked to follow a test clock without it stops, in words.
"""

import os
import time

ENV = "GLANCEDASH_TEST_CLOCK_OFFSET"


def follow() -> None:
    offset = os.environ.get(ENV)
    if not offset:
        return
    try:
        import time_machine
    except ImportError as exc:  # a production install: no test clock to follow
        raise SystemExit(f"{ENV} is set, but time-machine (a test dependency) is missing") from exc
    time_machine.travel(time.time() + float(offset), tick=True).start()
