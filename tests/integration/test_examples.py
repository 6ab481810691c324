"""Every example in examples/ runs to the end, embedded and against a fake over loopback TCP."""

from __future__ import annotations

import os
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from pleo_export.testing import DEFAULT_API_KEY, FakePleo

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TIMEOUT = 90


def run_example(name: str, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``examples/NAME.py ARGS`` with no Pleo settings from the environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEO_")}
    return subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env=env,
        cwd=cwd,
    )


@pytest.fixture
def external() -> Iterator[tuple[FakePleo, str]]:
    """A fake with two pending jobs on 127.0.0.1, started apart from the example."""
    fake = FakePleo(seed=11)
    fake.add_job(items=300)
    fake.add_job(items=40, vendor_based_bookkeeping=True)
    with fake.serve() as url:
        yield fake, url


def test_every_example_is_tested() -> None:
    """Each example script has a test here, so none can rot unnoticed."""
    source = Path(__file__).read_text()
    for script in EXAMPLES.glob("*.py"):
        if not script.name.startswith("_") and script.stem != "ledger":
            assert f'"{script.stem}"' in source, script.name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("quickstart", "2 pending export job(s)"),
        ("list_and_page", "3. resumed after the checkpoint: 734 more export items"),
        ("export_run", "→ completed_with_errors"),
        ("oauth_refresh", "every round used a freshly rotated token"),
        ("receipts", "stored 128 files (128 distinct"),
        ("sync_celery_task", "2 job(s) exported in forked worker processes"),
        ("sync_management_command", "exported 3 job(s): 135 item(s) booked"),
        ("sync_notebook", "inside a running event loop: 2 pending job(s)"),
    ],
)
def test_example_runs_embedded(name: str, expected: str) -> None:
    """With no options an example starts its own fake, runs, and exits 0."""
    proc = run_example(name)
    assert proc.returncode == 0, proc.stderr
    assert expected in proc.stdout


@pytest.mark.parametrize("name", ["quickstart", "oauth_refresh"])
def test_example_runs_against_a_separate_server(name: str, external: tuple[FakePleo, str]) -> None:
    """--base-url points an example at a server it did not start (oauth: a static token)."""
    _, url = external
    key = ("--api-key", DEFAULT_API_KEY) if name != "oauth_refresh" else ()
    proc = run_example(name, "--base-url", url, *key)
    assert proc.returncode == 0, proc.stderr
    assert "2 pending export job(s)" in proc.stdout or "round 3: 2 job(s)" in proc.stdout


def test_export_run_reports_every_item(external: tuple[FakePleo, str]) -> None:
    """The export-run example reports every item of its first job and fails the second one,
    and says both outcomes are intended (a bare "0 booked … → failed" fails this)."""
    fake, url = external
    proc = run_example("export_run", "--base-url", url, "--api-key", DEFAULT_API_KEY)
    assert proc.returncode == 0, proc.stderr
    first, second = fake.jobs()
    counts = fake.item_status_counts(first["id"])
    assert first["status"] in ("completed", "completed_with_errors")
    assert counts.get("pending", 0) == 0
    assert sum(counts.values()) == first["numberOfItems"]
    assert (second["status"], second["failureReasonType"]) == (
        "failed",
        "accounting_system_unreachable",
    )
    assert "on purpose: this ERP failed pre-export validation" in proc.stdout
    if counts.get("failed"):
        assert f"on purpose: {counts['failed']} items use tax codes" in proc.stdout


def _lines(stream: object, sink: queue.Queue[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sink.put(line)


@pytest.mark.parametrize(
    ("journal", "batch"),
    [(False, False), (True, False), (True, True)],
    ids=["in-memory", "sqlite journal", "sqlite journal, batches"],
)
def test_worker_service_stops_gracefully_on_sigterm(
    journal: bool, batch: bool, tmp_path: Path
) -> None:
    """SIGTERM mid-job pauses the job (left in_progress), logs the totals and exits 0, with the
    client's in-memory journal, with a SQLiteCoordinator file (``--journal``), and with a
    batch handler (``--batch-size``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEO_")}
    options = ["--journal", str(tmp_path / "journal.sqlite")] if journal else []
    options += ["--batch-size", "25"] if batch else []
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / ("worker_service" + ".py")), "--items", "200", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        while not any(" finished " in line for line in seen):  # one small job done: busy
            seen.append(lines.get(timeout=TIMEOUT))
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    while not lines.empty():
        seen.append(lines.get())
    output = "".join(seen)
    assert "SIGTERM: stopping" in output
    assert "stopped gracefully" in output
    assert re.search(r"job \w{8} paused \d+/2000 items", output), output


def test_worker_service_serves_prometheus_metrics() -> None:
    """With ``--metrics-port 0`` the service serves OpenTelemetry's Prometheus exposition; one
    scrape after a job finished shows it counted with its items; fails if the endpoint is
    missing, empty, or the worker's instruments never reach it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEO_")}
    command = [sys.executable, str(EXAMPLES / "worker_service.py"), "--metrics-port", "0"]
    proc = subprocess.Popen(
        [*command, "--items", "20", "--jobs", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    seen: list[str] = []
    try:
        while not any(" finished " in line for line in seen):  # the seeded job of 200 items
            seen.append(lines.get(timeout=TIMEOUT))
        found = re.search(r"metrics on (http://\S+)", "".join(seen))
        assert found, seen
        scraped = httpx.get(found[1], timeout=TIMEOUT).text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    samples = {
        (sample.name, *(v for k, v in sorted(sample.labels.items()) if not k.startswith("otel"))): (
            sample.value
        )
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
    }
    assert samples["pleo_export_worker_jobs_finished_total", "completed"] >= 1
    items = [v for k, v in samples.items() if k[0] == "pleo_export_worker_items_total"]
    assert sum(items) >= 200
    assert samples["pleo_export_worker_jobs_running",] == 0
    assert samples["pleo_export_batch_duration_seconds_count",] >= 2
    assert samples["pleo_export_batch_duration_seconds_bucket", "10.0"] >= 2


# -- the demo (make demo) ----------------------------------------------------------------------

SUMMARY = re.compile(
    r"items booked\s+(?P<booked>[\d,]+)\n\s+items failed\s+(?P<failed>[\d,]+).*?\n"
    r".*check: ledger entries \((?P<entries>[\d,]+)\) == items marked successful in Pleo "
    r"\((?P<server>[\d,]+)\): (?P<verdict>\w+)",
    re.S,
)


def summary(stdout: str) -> dict[str, str]:
    """The demo's summary figures, commas removed."""
    found = SUMMARY.search(stdout)
    assert found, stdout
    return {k: v.replace(",", "") for k, v in found.groupdict().items()}


def test_demo_embedded_exports_everything_and_checks_itself(tmp_path: Path) -> None:
    """``make demo``'s command exports every job; the ledger matches Pleo; some items fail, and
    the output says those vendor_unknown failures are intended."""
    ledger = tmp_path / "ledger.sqlite"
    proc = run_example(
        "export_to_ledger", "--embedded", "--jobs", "3", "--items", "300", "--ledger", str(ledger)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    figures = summary(proc.stdout)
    assert figures["verdict"] == "OK"
    assert int(figures["booked"]) + int(figures["failed"]) == 900
    assert int(figures["failed"]) > 0  # the vendor the ledger does not know
    assert figures["entries"] == figures["server"] == figures["booked"]
    assert "the vendor_unknown failures are on purpose" in proc.stdout
    assert "check: every ledger entry balances (debits == credits): OK" in proc.stdout
    assert re.search(r"job \w{8}:\s+300/300 items, \d+ booked, \d+ failed → completed", proc.stdout)
    with sqlite3.connect(ledger) as db:
        assert db.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == int(figures["booked"])


def test_demo_against_a_separate_fake_is_idempotent_and_checked(
    external: tuple[FakePleo, str], tmp_path: Path
) -> None:
    """--once exports pending jobs; a rerun books nothing twice; an unbalanced entry and a lost
    entry each fail the check."""
    fake, url = external
    ledger = tmp_path / "ledger.sqlite"
    args = ("--base-url", url, "--api-key", DEFAULT_API_KEY, "--once", "--ledger", str(ledger))
    first = run_example("export_to_ledger", *args)
    assert first.returncode == 0, first.stdout + first.stderr
    successful = sum(fake.item_status_counts(j["id"]).get("successful", 0) for j in fake.jobs())
    assert summary(first.stdout)["entries"] == str(successful)
    assert all(job["status"] != "pending" for job in fake.jobs())
    reports = [n for job in fake.jobs() for n in fake.item_update_counts(job["id"]).values()]
    assert set(reports) == {1}

    second = run_example("export_to_ledger", *args)
    assert second.returncode == 0, second.stdout + second.stderr
    assert summary(second.stdout)["entries"] == str(successful)

    # An entry whose debits and credits differ fails the balance check (then it is put back).
    with sqlite3.connect(ledger) as db:
        db.execute("UPDATE lines SET debit = debit + 1 WHERE rowid = 1")
    tampered = run_example("export_to_ledger", *args)
    assert tampered.returncode == 1
    assert "every ledger entry balances (debits == credits): 1 do not" in tampered.stdout
    with sqlite3.connect(ledger) as db:
        db.execute("UPDATE lines SET debit = debit - 1 WHERE rowid = 1")

    with sqlite3.connect(ledger) as db:
        db.execute("DELETE FROM lines WHERE entry_number = (SELECT MAX(number) FROM entries)")
        db.execute("DELETE FROM entries WHERE number = (SELECT MAX(number) FROM entries)")
    third = run_example("export_to_ledger", *args)
    assert third.returncode == 1
    assert summary(third.stdout)["verdict"] == "MISMATCH"


def test_demo_without_credentials_says_so(tmp_path: Path) -> None:
    """Without --embedded and credentials the demo exits 3 with one line, creating nothing."""
    proc = run_example("export_to_ledger", "--once", cwd=tmp_path)
    assert proc.returncode == 3
    assert "credentials" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_demo_with_rejected_credentials_exits_3(
    external: tuple[FakePleo, str], tmp_path: Path
) -> None:
    """A key the server refuses stops the demo before it creates a ledger (exit 3)."""
    _, url = external
    ledger = tmp_path / "ledger.sqlite"
    proc = run_example(
        "export_to_ledger",
        "--base-url",
        url,
        "--api-key",
        "wrong",
        "--once",
        "--ledger",
        str(ledger),
    )
    assert proc.returncode == 3
    assert "401" in proc.stderr
    assert not ledger.exists()
