"""The operator scripts outside the suite's own runs: they import, and `make load` judges its
figures as issue 18 asks (each page's p95 under load against 3x its median unloaded, logins
apart). `make load` itself needs locust and minutes; a moved helper once broke it unseen."""

import sys

from tests.helpers.processes import ROOT

sys.path.insert(0, str(ROOT / "scripts"))

import bench
import direct_load  # noqa: F401 (imports: bench_worker --direct loads it by name)
import load_test


def test_load_judges_each_page_against_its_unloaded_median():
    results = {
        "unloaded": [
            {"page": "overview", "median_ms": 40},
            {"page": "agents", "median_ms": 50},
            {"page": "Aggregated", "median_ms": 45},
        ],
        "pages": [
            {"page": "overview", "p95_ms": 120, "failures": 0},  # 3.0x: within
            {"page": "agents", "p95_ms": 151, "failures": 0},  # 3.02x: over
            {"page": "session detail", "p95_ms": 900, "failures": 0},  # never seen unloaded
            {"page": "Aggregated", "p95_ms": 500, "failures": 0},
        ],
    }
    verdicts = {page: ok for page, ok, _ in load_test.load_verdicts(results)}
    assert verdicts == {"overview": True, "agents": False}


def test_load_has_its_helpers():
    assert load_test.free_port() > 0
    assert callable(load_test.wait_for) and callable(load_test.log_in_all)


def test_direct_bench_judges_growth_and_the_naive_way_page_by_page():
    def page(range_label, name, ms, naive=None):
        row = {"range": range_label, "page": name, "ms": ms}
        if naive:
            row["naive_ms"], row["speedup"] = naive, round(naive / ms, 1)
        return row

    results = {
        "direct": True,
        "small": 100_000,
        "runs": {
            "postgresql": {
                "pages": [
                    page("365 d", "overview", 40, 800),  # 2.0x, 20x: within
                    page("365 d", "agents", 61, 1200),
                ]
            },
            "postgresql small": {
                "pages": [page("365 d", "overview", 20), page("365 d", "agents", 30)]
            },
        },
    }
    verdicts = [(ok, figure) for _, ok, figure in bench.direct_verdicts(results)]
    assert verdicts == [(False, "worst 2.0x (365 d agents)"), (False, "least 19.7x (agents)")]
    results["runs"]["postgresql"]["pages"][1] = page("365 d", "agents", 60, 1200)
    verdicts = [ok for _, ok, _ in bench.direct_verdicts(results)]
    assert verdicts == [True, True]
