"""The seed files in tests/fixtures: answers as Glance's documentation shows them."""

from pathlib import Path

from sessions_app.glance.records import page_from_answer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def seed_page():
    return page_from_answer((FIXTURES / "seed_answer.json").read_bytes())
