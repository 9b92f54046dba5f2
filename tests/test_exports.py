"""Exports hold exactly the rows on screen, in every format, with the filter written in."""

import csv
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
import pytest
from django.test import Client
from openpyxl import load_workbook

from sessions_app.exports.jobs import build_job
from sessions_app.models import AuditEvent, ExportJob, Profile
from sessions_app.models.sessions import name_from_user_name
from tests.factories import guest, record, store

HOSTILE = [
    '=HYPERLINK("http://evil")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "<script>alert(1)</script>",
    'Quote "this"',
    "Line\nbreak",
    "李娜 Ольга Zoë",
]


@pytest.fixture
def analyst(client, world):
    client.force_login(world.users["analyst"])
    return client


def download(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


def list_count(client, query):
    body = client.get(f"/sessions/?{query}").content.decode()
    return int(re.search(r"([\d,]+) sessions\. Times in", body).group(1).replace(",", ""))


def csv_rows(body: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


@pytest.mark.parametrize(
    "query", ["", "type=C&country=US", "outcome=not_connected", "min_duration=300"]
)
def test_csv_holds_exactly_the_sessions_listed(analyst, world, query):
    _, body = download(analyst, f"/sessions/export.csv?{query}")
    rows = csv_rows(body)
    assert len(rows) == list_count(analyst, query) > 0
    assert {row["partner"] for row in rows} == {world.a.name}
    sample = world.a.sessions.get(glance_id=int(rows[0]["session_id"]))
    assert (
        rows[0]["status"] == sample.status and rows[0]["start_utc"] == sample.start_time.isoformat()
    )
    assert (
        rows[0]["agent"] == sample.agent.user_name
        and int(rows[0]["guest_count"]) == sample.guest_count
    )


def test_each_csv_row_holds_its_sessions_times_and_visitor_countries(analyst, world):
    """Dates and countries are gathered the fast way (SQL text, one aggregated column): each
    row must still say what the session's own rows say."""
    store(
        world.a,
        record(
            88001,
            world.session_of(world.a).start_time,
            guests=[guest("agent", country="GB"), guest(country="us"), guest(country="DE"),
                    guest(country="US"), guest(country=None), guest("host", country="FR")],
        ),
        # A fraction of a second, as Glance may send: kept in both time columns.
        record(88002, world.session_of(world.a).start_time + timedelta(microseconds=250000)),
    )  # fmt: skip
    _, body = download(analyst, "/sessions/export.csv")
    rows = csv_rows(body)
    sessions = {s.glance_id: s for s in world.a.sessions.prefetch_related("guests")}
    for row in rows:
        session = sessions[int(row["session_id"])]
        assert row["start"] == row["start_utc"] == session.start_time.isoformat()  # a UTC user
        assert row["end"] == row["end_utc"] == session.end_time.isoformat()
        visitors = {
            g.country_code.upper()
            for g in session.guests.all()
            if g.country_code and g.guest_type not in ("agent", "host")
        }
        assert row["guest_countries"] == " ".join(sorted(visitors))
    assert {r["guest_countries"] for r in rows if r["session_id"] == "88001"} == {"DE US"}
    (fraction,) = [r for r in rows if r["session_id"] == "88002"]
    assert fraction["start_utc"].endswith(".250000+00:00")


def test_a_row_per_participant_repeats_its_session(analyst, world):
    _, body = download(analyst, "/sessions/export.csv?rows=guests&type=G")
    rows = csv_rows(body)
    per_session = {}
    for row in rows:
        per_session.setdefault(row["session_id"], []).append(row)
    assert len(per_session) == list_count(analyst, "type=G") > 0
    for mine in per_session.values():
        assert len(mine) == max(int(mine[0]["guest_count"]), 1)
        assert [r["guest_position"] for r in mine] == [str(n) for n in range(1, len(mine) + 1)]
        assert {r["agent"] for r in mine} == {mine[0]["agent"]}


def test_ndjson_keeps_types(analyst, world):
    _, body = download(analyst, "/sessions/export.ndjson?type=V")
    lines = [orjson.loads(line) for line in body.splitlines()]
    assert len(lines) == list_count(analyst, "type=V")
    assert isinstance(lines[0]["session_id"], int) and isinstance(lines[0]["reverse"], bool)
    assert lines[0]["start"].endswith("+00:00") and lines[0]["type"] == "V"


def test_excel_holds_the_rows_and_a_sheet_saying_what_they_are(analyst, world):
    response, body = download(analyst, "/sessions/export.xlsx?type=C&country=US")
    book = load_workbook(io.BytesIO(body), read_only=True)
    data = list(book["Sessions"].iter_rows(values_only=True))
    assert data[0][0] == "Partner" and "Start (UTC)" in data[0]
    assert len(data) - 1 == list_count(analyst, "type=C&country=US")
    about = dict(book["Export"].iter_rows(values_only=True))
    assert about["Filter: type"] == "C" and about["Filter: country"] == "US"
    assert about["Time zone"] == "UTC" and about["Exported by"] == "analyst"
    assert "type-C_country-US" in response["Content-Disposition"]


def test_filters_and_zone_travel_in_name_and_headers(analyst, world):
    Profile.objects.create(user=world.users["analyst"], time_zone="Asia/Kolkata")
    response, body = download(analyst, "/sessions/export.csv?preset=7d&outcome=connected")
    assert response["X-Glancedash-Filter"] == "preset=7d&outcome=connected"
    assert response["X-Glancedash-Time-Zone"] == "Asia/Kolkata"
    assert (
        "outcome-connected" in response["Content-Disposition"]
        and "Asia-Kolkata" in response["Content-Disposition"]
    )
    row = csv_rows(body)[0]
    assert row["start"].endswith("+05:30") and row["start_utc"].endswith("+00:00")
    start_utc = datetime.fromisoformat(row["start_utc"])
    assert row["start"] == start_utc.astimezone(ZoneInfo("Asia/Kolkata")).isoformat()
    assert start_utc in set(world.a.sessions.values_list("start_time", flat=True))


def test_hostile_strings_are_neutralised_for_spreadsheets_and_kept_intact_otherwise(analyst, world):
    start = world.session_of(world.a).start_time
    store(
        world.a,
        *[
            record(800 + i, start, guests=[guest(name=text, city=text, error=text)])
            for i, text in enumerate(HOSTILE)
        ],
    )
    _, body = download(
        analyst, "/sessions/export.csv?rows=guests&min_duration=300&max_duration=300&country=US"
    )
    names = {row["name"] for row in csv_rows(body) if row["name"]}
    assert '\'=HYPERLINK("http://evil")' in names and "'+1+1" in names and "'-2+3" in names
    assert "'@SUM(A1)" in names and "<script>alert(1)</script>" in names
    assert 'Quote "this"' in names and "Line\nbreak" in names and "李娜 Ольга Zoë" in names
    _, xlsx = download(
        analyst, "/sessions/export.xlsx?rows=guests&min_duration=300&max_duration=300&country=US"
    )
    cells = {
        c
        for row in load_workbook(io.BytesIO(xlsx)).worksheets[0].iter_rows(values_only=True)
        for c in row
    }
    assert '\'=HYPERLINK("http://evil")' in cells and '=HYPERLINK("http://evil")' not in cells
    _, ndjson = download(
        analyst, "/sessions/export.ndjson?rows=guests&min_duration=300&max_duration=300&country=US"
    )
    assert '=HYPERLINK("http://evil")' in {
        orjson.loads(line)["name"] for line in ndjson.splitlines()
    }


def test_every_export_is_audited_with_its_filter_and_row_count(analyst, world):
    _, body = download(analyst, "/sessions/export.csv?type=C")
    event = AuditEvent.objects.get(action="export")
    assert (
        event.details["row_count"] == len(csv_rows(body)) and event.details["filters"] == "type=C"
    )
    assert (
        event.details["complete"] is True
        and event.partner == world.a
        and event.actor_name == "analyst"
    )


@pytest.mark.parametrize("persona, status", [("viewer", 403), ("outsider", 403), ("admin", 200)])
def test_only_analysts_and_admins_export(client, world, persona, status):
    client.force_login(world.users[persona])
    assert client.get("/sessions/export.csv").status_code == status


def test_viewers_are_not_offered_a_download(client, world):
    client.force_login(world.users["viewer"])
    assert "/sessions/export.csv" not in client.get("/sessions/").content.decode()
    client.force_login(world.users["analyst"])
    assert "/sessions/export.csv" in client.get("/sessions/").content.decode()


def test_bad_filters_and_row_kinds_are_refused_clearly(analyst):
    response = analyst.get("/sessions/export.csv?country=Narnia")
    assert response.status_code == 400 and b"country" in response.content
    assert analyst.get("/sessions/export.csv?rows=everything").status_code == 400
    assert analyst.get("/sessions/export.pdf").status_code == 404


def test_a_large_excel_export_runs_as_a_job_with_a_download(analyst, world, settings):
    settings.EXPORT_XLSX_INLINE_ROWS = 5
    # A link only asks: nothing starts until the user confirms with a POST.
    asked = analyst.get("/sessions/export.xlsx?rows=guests&type=C")
    page = asked.content.decode()
    assert asked.status_code == 200 and not ExportJob.objects.exists()
    assert (
        'method="post" action="?rows=guests&amp;type=C"' in page and "csrfmiddlewaretoken" in page
    )
    response = analyst.post("/sessions/export.xlsx?rows=guests&type=C")
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exports/{job.pk}/"
    assert "type=C" in job.query  # the filter of the page that asked
    assert "rows written" in analyst.get(f"/exports/{job.pk}/").content.decode()
    build_job(job)  # what the worker runs
    job.refresh_from_db()
    assert job.state == "done" and job.rows_done == job.rows_total
    body = b"".join(analyst.get(f"/exports/{job.pk}/download").streaming_content)
    rows = list(
        load_workbook(io.BytesIO(body), read_only=True).worksheets[0].iter_rows(values_only=True)
    )
    assert len(rows) - 1 == job.rows_total
    assert analyst.get(f"/exports/{job.pk}/status.json").json()["state"] == "done"


def test_a_cross_site_post_cannot_start_an_export_job(client, world, settings):
    """The confirmation is a POST, so Django's CSRF check stands between another site's form
    and a job that would run for minutes."""
    settings.EXPORT_XLSX_INLINE_ROWS = 5
    forged = Client(enforce_csrf_checks=True)
    forged.force_login(world.users["analyst"])
    assert forged.post("/sessions/export.xlsx?rows=guests").status_code == 403
    assert not ExportJob.objects.exists()


def test_someone_elses_export_job_is_not_found(client, world):
    job = ExportJob.objects.create(user=world.users["analyst"], query="", time_zone="UTC")
    client.force_login(world.users["admin"])
    assert client.get(f"/exports/{job.pk}/").status_code == 404
    assert client.get(f"/exports/{job.pk}/download").status_code == 404


def test_old_export_files_are_cleaned_up(world, settings, tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    from sessions_app.exports.jobs import clean_old_exports

    old_file, new_file = tmp_path / "old.xlsx", tmp_path / "new.xlsx"
    old_file.write_bytes(b"x")
    new_file.write_bytes(b"x")
    user = world.users["analyst"]
    ExportJob.objects.create(
        user=user,
        query="",
        time_zone="UTC",
        path=str(old_file),
        created_at=timezone.now() - timedelta(days=settings.EXPORT_KEEP_DAYS + 1),
    )
    ExportJob.objects.create(user=user, query="", time_zone="UTC", path=str(new_file))
    assert clean_old_exports() == 1
    assert not old_file.exists() and new_file.exists() and ExportJob.objects.count() == 1


def test_control_characters_do_not_break_excel(analyst, world):
    start = world.session_of(world.a).start_time
    store(
        world.a, record(950, start, guests=[guest(name="bell\x07 and\x0btab", error="\x1b[31mred")])
    )
    _, body = download(analyst, "/sessions/export.xlsx?rows=guests&key=950")
    cells = {
        c
        for row in load_workbook(io.BytesIO(body)).worksheets[0].iter_rows(values_only=True)
        for c in row
    }
    assert "bell andtab" in cells


def test_a_job_whose_filter_is_no_longer_valid_fails_instead_of_exporting_something_else(world):
    job = ExportJob.objects.create(
        user=world.users["analyst"], query=f"partner={world.b.pk}", time_zone="UTC", rows_total=10
    )
    build_job(job)
    job.refresh_from_db()
    assert job.state == "failed" and "no longer valid" in job.error and not job.path


def test_a_guest_search_stays_out_of_file_names_and_the_audit(analyst, world):
    response, _ = download(analyst, "/sessions/export.csv?q=ann")
    assert "ann" not in response["Content-Disposition"]
    event = AuditEvent.objects.get(action="export")
    assert "ann" not in event.details["filters"] and event.details["guest_search"] is True


FORMULA_LEADS = ["=", "+", "-", "@", "\t", "\r"]


@pytest.mark.parametrize("lead", FORMULA_LEADS, ids=["eq", "plus", "minus", "at", "tab", "cr"])
def test_each_formula_lead_is_neutralised_in_csv_and_excel(analyst, world, lead):
    """A cell a spreadsheet would run (or, after a tab or CR, run once trimmed) starts with an
    apostrophe, in the agent column of session rows and the name and city of participant rows."""
    text = f"{lead}cmd|' /C calc'!A0"
    store(
        world.a,
        record(
            87001,
            world.session_of(world.a).start_time,
            agent=f"{text}.acme.glance.net",
            guests=[guest(name=text, city=text)],
        ),
    )
    only = "key=87001"
    _, body = download(analyst, f"/sessions/export.csv?{only}")
    (session,) = csv_rows(body)
    assert session["agent"] == f"'{text}.acme.glance.net"
    _, body = download(analyst, f"/sessions/export.csv?rows=guests&{only}")
    (participant,) = csv_rows(body)
    assert (participant["name"], participant["city"]) == (f"'{text}", f"'{text}")
    for rows in ("sessions", "guests"):
        _, xlsx = download(analyst, f"/sessions/export.xlsx?rows={rows}&{only}")
        cells = [
            c
            for row in load_workbook(io.BytesIO(xlsx)).worksheets[0].iter_rows(values_only=True)
            for c in row
        ]
        # XML reads a stored CR back as a line feed; the apostrophe before it is what counts.
        seen = text.replace("\r", "\n")
        guarded = [c for c in cells if isinstance(c, str) and seen in c.replace("\r", "\n")]
        # The agent's user name and, where the name made from it keeps the text, that name;
        # and each participant's name and city.
        named = seen in name_from_user_name(f"{text}.acme.glance.net").replace("\r", "\n")
        assert len(guarded) == 1 + named + (0 if rows == "sessions" else 2)
        assert all(c.startswith("'") for c in guarded)


def test_an_export_file_is_refused_once_access_to_its_data_is_revoked(client, world, settings):
    """An analyst of A and B queues an Excel export of B, then loses B: the file is B's data."""
    from sessions_app.models import Membership

    settings.EXPORT_XLSX_INLINE_ROWS = 5
    analyst = world.users["analyst"]
    grant = Membership.objects.create(user=analyst, partner=world.b, role="analyst")
    client.force_login(analyst)
    client.post(f"/sessions/export.xlsx?partner={world.b.pk}")
    job = ExportJob.objects.get()
    build_job(job)
    assert client.get(f"/exports/{job.pk}/download").status_code == 200
    grant.delete()
    refused = client.get(f"/exports/{job.pk}/download")
    assert refused.status_code == 403 and not getattr(refused, "streaming", False)
    assert world.b.name not in refused.content.decode()


@pytest.mark.parametrize(
    "separator", [",", ";", "\t", "|", "\n"], ids=["comma", "semicolon", "tab", "pipe", "newline"]
)
def test_no_formula_starts_after_any_separator_a_spreadsheet_may_use(analyst, world, separator):
    """A spreadsheet set to split on ";" (or tab, or |) would cut "a;=cmd…" into a cell that
    runs: every text field is quoted, and a formula after a separator is neutralised too."""
    text = f"a{separator}=cmd|' /C calc'!A0"
    store(
        world.a,
        record(
            87002,
            world.session_of(world.a).start_time,
            agent=f"{text}.acme.glance.net",
            guests=[guest(name=text)],
        ),
    )
    _, body = download(analyst, "/sessions/export.csv?rows=guests&key=87002")
    raw = body.decode("utf-8-sig")
    for splitter in (",", ";", "\t", "|"):
        for line in raw.splitlines():
            for cell in line.split(splitter):
                assert not cell.strip().lstrip('"').startswith(("=", "+", "@")), (splitter, cell)
    (row,) = csv_rows(body)
    assert row["name"] == f"a{separator}'=cmd|' /C calc'!A0"  # the text kept, one mark added
    assert f'"{row["partner"]}"' in raw  # text fields are quoted


def test_a_file_that_recorded_no_partners_is_not_handed_out(client, world):
    """Files from before jobs recorded their partners (or any that lost the record) are refused:
    there is nothing to check access against."""
    from pathlib import Path

    from django.conf import settings as django_settings

    path = Path(django_settings.DATA_DIR) / "exports" / "unchecked.xlsx"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"PK")
    job = ExportJob.objects.create(
        user=world.users["analyst"], query="", time_zone="UTC", state="done", path=str(path),
        file_name="x.xlsx",
    )  # fmt: skip
    client.force_login(world.users["analyst"])
    assert client.get(f"/exports/{job.pk}/download").status_code == 403
