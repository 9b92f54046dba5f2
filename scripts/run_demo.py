"""`make run`: the product with demo data, on http://127.0.0.1:8000.

Migrates, starts the Glance simulator, registers a demo partner served by it and a demo login,
runs a first sync so there is data when the browser opens, then runs the django-q2 cluster and
the web server until Ctrl-C, and stops them all (each in its own process group, so Ctrl-C reaches
only this script and the shutdown order is ours; each gets a time limit, then its whole group
is killed).
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
WEB_PORT = int(os.environ.get("PORT", "8000"))
SIM_PORT = int(os.environ.get("SIM_PORT", "8765"))
SIM_URL = f"http://127.0.0.1:{SIM_PORT}"
STOP_SECONDS = 10


def manage(*args):
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True)


def start(name, *args):
    print(f"· starting {name}")
    return name, subprocess.Popen([PY, *args], cwd=ROOT, start_new_session=True)


def wait_for(url, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 (our own loopback URL)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {seconds}s")


def stop(processes):
    for name, proc in reversed(processes):
        if proc.poll() is not None:
            continue
        print(f"· stopping {name}")
        # The leader only: django-q2 stops its own workers, and hangs if they are signalled too.
        proc.terminate()
        try:
            proc.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            print(f"· {name} did not stop within {STOP_SECONDS}s; killing it")
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main():
    processes = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    # Ctrl-C must reach us even when started from a shell that ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        manage("migrate", "--noinput", "-v", "0")
        processes.append(
            start(
                "Glance simulator",
                "-m",
                "glance_sim",
                "--port",
                str(SIM_PORT),
                "--partner",
                "12345:demo-key:300",
            )
        )
        wait_for(f"{SIM_URL}/_sim/health")
        manage("setup_demo", "--api-url", f"{SIM_URL}/services/activityservice.asmx")
        print("· first sync from the simulator")
        manage("sync_glance", "--partner", "12345")
        processes.append(start("django-q2 cluster", "manage.py", "qcluster"))
        processes.append(
            start("web server", "manage.py", "runserver", f"127.0.0.1:{WEB_PORT}", "--noreload")
        )
        wait_for(f"http://127.0.0.1:{WEB_PORT}/healthz")
        print(f"\nglancedash is running: http://127.0.0.1:{WEB_PORT}/  (Ctrl-C stops everything)\n")
        while all(proc.poll() is None for _, proc in processes):
            time.sleep(0.5)
        dead = [name for name, proc in processes if proc.poll() is not None]
        print(f"· {', '.join(dead)} exited; stopping the rest")
        return 1
    except KeyboardInterrupt:
        print()
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"· {' '.join(map(str, exc.cmd[1:]))} failed (exit {exc.returncode})")
        return 1
    finally:
        stop(processes)


if __name__ == "__main__":
    sys.exit(main())
