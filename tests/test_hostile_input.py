"""Strings from the outside world (agent names, guest names, emails, cities, regions, error texts,
session keys) that try to be markup, formulas or terminal codes: every page shows them as text,
every chart's data carries them escaped for plotly's hover labels, every export carries them
intact or neutralised for spreadsheets, and nothing fails on them."""

import dataclasses
import io
import json

import orjson
import pytest
from openpyxl import load_workbook

from sessions_app.figures import charts
from sessions_app.models import Agent, Session
from tests.factories import guest, record, store

SCRIPT = "<script>alert('x')</script>"
IMG = '"><img src=x onerror=alert(1)>'
FORMULA = '=HYPERLINK("http://evil","click")'
CONTROL = "bell\x07 esc\x1b[31m tab\t cr\r del\x7f"
LONG = "Ω" * 3000
NON_LATIN = "李娜 Ольга Zoë محمد"
RAW_MARKUP = ("<script>alert(", "<img src=x")


@pytest.fixture
def hostile(world):
    start = world.session_of(world.a).start_time
    visitors = [
        guest(name=SCRIPT, city=IMG, region=SCRIPT[:100], error=SCRIPT),
        guest(name=FORMULA, city=FORMULA, error=FORMULA),
        guest(name=CONTROL, city=CONTROL, error=CONTROL),
        guest(name=LONG, city=NON_LATIN, error=LONG),
    ]
    session = dataclasses.replace(
        record(7001, start, agent=f"{SCRIPT}.acme", guests=[guest("agent"), *visitors]),
        key=IMG,
    )
    store(world.a, session)
    return Session.objects.get(partner=world.a, glance_id=7001)


@pytest.fixture
def analyst(client, world):
    client.force_login(world.users["analyst"])
    return client


def html_pages(session):
    agent = Agent.objects.get(pk=session.agent_id)
    return [
        "/",
        "/geography/",
        "/agents/",
        f"/agents/{agent.pk}/",
        "/sessions/",
        "/sessions/?" + f"key={IMG}",
        f"/sessions/{session.pk}/",
        "/sync/",
    ]


def test_every_page_shows_outside_strings_as_text(analyst, hostile):
    for path in html_pages(hostile):
        response = analyst.get(path)
        body = response.content.decode()
        assert response.status_code == 200, path
        for markup in RAW_MARKUP:
            assert markup not in body, (path, markup)
    detail = analyst.get(f"/sessions/{hostile.pk}/").content.decode()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in detail  # shown, as text
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in detail
    assert NON_LATIN in detail and LONG[:100] in detail
    assert "bell\x07 esc\x1b[31m" in detail  # kept as they came: text, which runs nothing


def test_chart_data_carries_outside_strings_escaped_for_hover_labels(analyst, hostile):
    bodies = {
        name: analyst.get(f"/charts/{name}/?preset=30d").content.decode() for name in charts.CHARTS
    }
    bodies["timeline"] = analyst.get(f"/charts/session-timeline/{hostile.pk}/").content.decode()
    for name, body in bodies.items():
        json.loads(body)  # valid JSON however odd the strings
        for markup in RAW_MARKUP:
            assert markup not in body, (name, markup)
    assert "&lt;script&gt;" in bodies["timeline"]


def test_exports_keep_outside_strings_intact_or_neutralised(analyst, hostile):
    query = f"key={IMG}&rows=guests"
    csv_body = b"".join(analyst.get(f"/sessions/export.csv?{query}").streaming_content).decode()
    assert SCRIPT in csv_body  # text in a CSV is text; it is the spreadsheet that must not run it
    assert "'" + FORMULA in csv_body.replace('""', '"')

    xlsx = analyst.get(f"/sessions/export.xlsx?{query}")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(xlsx.streaming_content)))
    cells = {
        cell
        for row in book.worksheets[0].iter_rows(values_only=True)
        for cell in row
        if isinstance(cell, str)
    }
    assert "'" + FORMULA in cells and FORMULA not in cells
    assert SCRIPT in cells and LONG in cells and NON_LATIN in cells
    assert any(cell.startswith("bell") for cell in cells)  # control characters dropped, not fatal

    lines = b"".join(analyst.get(f"/sessions/export.ndjson?{query}").streaming_content)
    names = {orjson.loads(line)["name"] for line in lines.splitlines()}
    assert {SCRIPT, FORMULA, LONG} <= names  # exact, for programs
