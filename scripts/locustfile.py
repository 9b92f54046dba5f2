"""What one logged-in lead does in glancedash, for locust (scripts/load_test.py runs it).

Each simulated user logs in with its own account (LOAD_USER_PREFIX + number, LOAD_PASSWORD), or
given LOAD_COOKIES takes the cookies of a login made before the run; then, with one to three
seconds between views, it looks at the overview (and its four charts, as the browser fetches
them), the geography page and its maps, the agents, a page of the session list, one session,
and now and then downloads a CSV export of a week. A page counts as failed
if it is not a 200 or does not say what it should.
"""

import functools
import itertools
import json
import os
import random
import re

from locust import HttpUser, between, task

PREFIX = os.environ.get("LOAD_USER_PREFIX", "load")
PASSWORD = os.environ["LOAD_PASSWORD"]
USERS = int(os.environ.get("LOAD_ACCOUNTS", "50"))
PRESETS = ("7d", "30d", "90d", "30d", "7d")
OVERVIEW_CHARTS = ("sessions-over-time", "outcomes", "durations", "heatmap")
MAP_CHARTS = ("countries", "us-states")
SESSION_LINK = re.compile(r'href="/sessions/(\d+)/')

# A JSON file of each account's cookies, logged in before the run: a storm of 50 logins
# through PBKDF2 at the start would otherwise be in every page's p95.
COOKIES = os.environ.get("LOAD_COOKIES")

_numbers = itertools.count(1)


@functools.cache
def _logged_in() -> dict[str, dict[str, str]]:
    with open(COOKIES) as f:
        return json.load(f)


class Lead(HttpUser):
    wait_time = between(1, 3)

    def on_start(self):
        self.number = (next(_numbers) - 1) % USERS + 1
        self.session_ids = []
        if COOKIES:  # logged in ahead, and timed apart (scripts/load_test.py)
            self.client.cookies.update(_logged_in()[f"{PREFIX}{self.number:02d}"])
            return
        self.client.get("/login/", name="login page")
        token = self.client.cookies.get("csrftoken", "")
        with self.client.post(
            "/login/",
            data={
                "username": f"{PREFIX}{self.number:02d}",
                "password": PASSWORD,
                "csrfmiddlewaretoken": token,
            },
            name="login",
            catch_response=True,
            allow_redirects=False,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login refused: {response.status_code}")

    def page(self, path, name, expect, **params):
        with self.client.get(path, params=params, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            elif expect not in response.text:
                response.failure(f"{expect!r} not on the page")
            return response

    def charts(self, names, preset):
        for chart in names:
            self.page(f"/charts/{chart}/", f"chart {chart}", '"data"', preset=preset)

    @task(3)
    def overview(self):
        preset = random.choice(PRESETS)
        self.page("/", "overview", "<h1>Overview</h1>", preset=preset)
        self.charts(OVERVIEW_CHARTS, preset)

    @task(2)
    def geography(self):
        preset = random.choice(PRESETS)
        self.page("/geography/", "geography", "<h1>Geography</h1>", preset=preset)
        self.charts(MAP_CHARTS, preset)

    @task(2)
    def agents(self):
        self.page("/agents/", "agents", "<h1>Agents</h1>", preset=random.choice(PRESETS))

    @task(3)
    def session_list(self):
        number = random.randint(1, 20)
        response = self.page("/sessions/", "session list", "<h1>Sessions</h1>", page=number)
        self.session_ids = SESSION_LINK.findall(response.text or "")[:20] or self.session_ids

    @task(2)
    def session_detail(self):
        if not self.session_ids:
            return self.session_list()
        pk = random.choice(self.session_ids)
        self.page(f"/sessions/{pk}/", "session detail", "Guests")

    @task(1)
    def export_csv(self):
        with self.client.get(
            "/sessions/export.csv",
            params={"preset": "7d"},
            name="CSV export (7 days)",
            catch_response=True,
        ) as response:
            # A byte-order mark first, so that Excel reads the file as UTF-8.
            header = response.text.split("\r\n", 1)[0] if response.status_code == 200 else ""
            if not header.startswith('\ufeff"partner","session_id",'):
                response.failure(f"HTTP {response.status_code}: {response.text[:80]!r}")
