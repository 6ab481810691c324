"""The ``pleo-export`` console script, run as a subprocess against the fake over loopback TCP."""

from __future__ import annotations

import csv
import json
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pleo_export._cli import build_parser
from pleo_export._cli._connect import build_client
from pleo_export.testing import FakePleo

REPO = Path(__file__).resolve().parents[2]
SECRET = "sk-cli-test-secret-4c1d"  # a fake key; the tests check it is never printed
TIMEOUT = 60


@pytest.fixture
def fake() -> FakePleo:
    """A fake with two pending jobs, one finished with errors, and a secret API key."""
    fake = FakePleo(seed=7, api_keys=[SECRET])
    fake.add_job(items=40)
    fake.add_job(items=250, vendor_based_bookkeeping=True)
    fake.add_job(items=5, status="completed_with_errors")
    return fake


@pytest.fixture
def url(fake: FakePleo) -> Iterator[str]:
    """The fake's base URL on 127.0.0.1."""
    with fake.serve() as base_url:
        yield base_url


def cli(
    *args: str, url: str | None = None, key: str | None = SECRET, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run ``pleo-export ARGS`` with a clean Pleo environment; return the finished process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEO_")}
    if key is not None:
        env["PLEO_API_KEY"] = key
    if url is not None:
        env["PLEO_BASE_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "pleo_export._cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
        cwd=REPO,
    )


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    """Return the single stderr line, failing if there is a traceback or more lines."""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("pleo-export: error: ")
    assert SECRET not in proc.stderr + proc.stdout
    return lines[0]


def jobs_json(url: str) -> list[dict[str, Any]]:
    """The jobs as ``jobs list --json`` prints them."""
    proc = cli("jobs", "list", "--json", url=url)
    assert proc.returncode == 0, proc.stderr
    jobs: list[dict[str, Any]] = json.loads(proc.stdout)
    return jobs


def test_console_script_is_installed() -> None:
    """The ``pleo-export`` script from pyproject exists in the venv and prints its help."""
    script = Path(sys.executable).with_name("pleo-export")
    assert script.exists()
    proc = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert proc.returncode == 0
    for command in ("jobs", "items", "job-items", "fake-server", "spec"):
        assert command in proc.stdout


def test_no_credentials_is_one_line_and_exit_3(url: str) -> None:
    """Without PLEO_API_KEY or PLEO_BEARER_TOKEN the CLI says so in one line and exits 3."""
    proc = cli("jobs", "list", url=url, key=None)
    assert proc.returncode == 3
    assert "PLEO_API_KEY" in one_line_error(proc)


def test_rejected_credentials_exit_3_without_echoing_the_key(fake: FakePleo, url: str) -> None:
    """A key the server refuses gives exit 3 and a 401 line that does not contain the key."""
    fake.credentials.revoke_api_key(SECRET)
    proc = cli("jobs", "list", "--debug", url=url)
    assert proc.returncode == 3
    assert "401" in proc.stderr.splitlines()[-1]
    assert SECRET not in proc.stderr + proc.stdout


def test_usage_errors_exit_2(url: str) -> None:
    """An unknown command or status is an argparse usage error (exit 2)."""
    assert cli("nonsense", url=url).returncode == 2
    assert cli("jobs", "list", "--status", "done", url=url).returncode == 2


def test_jobs_list_table_and_json(fake: FakePleo, url: str) -> None:
    """The table shows every job with its status; --json gives the API's job objects."""
    proc = cli("jobs", "list", url=url)
    assert proc.returncode == 0, proc.stderr
    header, *rows = proc.stdout.splitlines()
    assert header.split() == ["ID", "COMPANY", "STATUS", "ITEMS", "CREATED"]
    assert len(rows) == 3
    jobs = jobs_json(url)
    assert {j["id"] for j in jobs} == {j["id"] for j in fake.jobs()}
    assert all(j["id"] in proc.stdout for j in jobs)


def test_jobs_list_filters_by_status_and_company(fake: FakePleo, url: str) -> None:
    """--status and --company narrow the listing the way the API's filters do."""
    proc = cli("jobs", "list", "--status", "completed_with_errors", "--json", url=url)
    assert [j["status"] for j in json.loads(proc.stdout)] == ["completed_with_errors"]
    company = fake.jobs()[0]["companyId"]
    proc = cli("jobs", "list", "--company", company, "--json", url=url)
    assert [j["companyId"] for j in json.loads(proc.stdout)] == [company]


def test_jobs_get_bad_and_unknown_ids(url: str) -> None:
    """A malformed id is a usage error (2); an unknown one an API error (1), each one line."""
    proc = cli("jobs", "get", "not-a-uuid", url=url)
    assert proc.returncode == 2
    assert "UUID" in one_line_error(proc)
    proc = cli("jobs", "get", "00000000-0000-4000-8000-000000000000", url=url)
    assert proc.returncode == 1
    assert "EXPORT_NOT_FOUND" in one_line_error(proc)


def test_jobs_get_shows_fields_and_json(fake: FakePleo, url: str) -> None:
    """``jobs get`` prints the job's fields; with --json the API object."""
    job_id = fake.jobs()[0]["id"]
    proc = cli("jobs", "get", job_id, url=url)
    assert proc.returncode == 0, proc.stderr
    assert f"id:           {job_id}" in proc.stdout
    assert "status:       pending" in proc.stdout
    proc = cli("jobs", "get", job_id, "--json", url=url)
    assert json.loads(proc.stdout)["numberOfItems"] == 40


def test_job_lifecycle_commands(fake: FakePleo, url: str) -> None:
    """start, then complete --with-errors, move the job; the server sees each transition."""
    job_id = fake.jobs()[0]["id"]
    proc = cli("jobs", "start", job_id, "--json", url=url)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "in_progress"
    assert fake.job(job_id)["status"] == "in_progress"
    proc = cli("jobs", "complete", job_id, "--with-errors", "--abandon-pending", url=url)
    assert proc.returncode == 0, proc.stderr
    assert fake.job(job_id)["status"] == "completed_with_errors"


def test_jobs_complete_refuses_to_abandon_pending_items(fake: FakePleo, url: str) -> None:
    """A job with pending items is not completed (exit 4, the count and the flag named, the job
    still in_progress); with --abandon-pending it is, and every abandoned entry id is printed.
    Before, ``complete`` returned 0 and left all 40 abandoned without a word."""
    job_id = fake.jobs()[0]["id"]
    assert cli("jobs", "start", job_id, url=url).returncode == 0
    refused = cli("jobs", "complete", job_id, url=url)
    assert refused.returncode == 4
    assert "40 items" in one_line_error(refused)
    assert "--abandon-pending" in one_line_error(refused)
    assert fake.job(job_id)["status"] == "in_progress"
    forced = cli("jobs", "complete", job_id, "--abandon-pending", "--json", url=url)
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["status"] == "completed"
    lines = forced.stderr.splitlines()
    assert lines[0] == "abandoned 40 pending items:"
    assert set(lines[1:]) == set(fake.accounting_entry_ids(job_id))
    assert fake.item_status_counts(job_id).get("abandoned") == 40


def test_jobs_fail_records_reason(fake: FakePleo, url: str) -> None:
    """``jobs fail`` posts the reason and reason type Pleo shows to the user."""
    job_id = fake.jobs()[1]["id"]
    assert cli("jobs", "start", job_id, url=url).returncode == 0
    proc = cli(
        "jobs", "fail", job_id, "--reason", "ERP is down", "--reason-type",
        "accounting_system_unreachable", url=url,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    job = fake.job(job_id)
    assert (job["status"], job["failureReasonType"]) == ("failed", "accounting_system_unreachable")
    assert job["failureReason"] == "ERP is down"


def test_illegal_transition_is_refused(fake: FakePleo, url: str) -> None:
    """Starting a finished job fails with one line and exit 4 (refused before sending);
    exit 1 would claim an API or network error that never happened."""
    job_id = fake.jobs()[2]["id"]
    proc = cli("jobs", "start", job_id, url=url)
    assert proc.returncode == 4
    assert "completed_with_errors" in one_line_error(proc)
    assert fake.job(job_id)["status"] == "completed_with_errors"


def test_a_retried_request_prints_nothing_on_stderr(fake: FakePleo, url: str) -> None:
    """A 503 the CLI retries leaves stderr empty: no bare ``stamina.retry_scheduled`` line
    (stamina's default hook) and no SDK log line without ``--debug``."""
    fake.faults.add("status", status=503, times=1)
    proc = cli("jobs", "list", url=url)
    assert proc.returncode == 0, proc.stderr
    assert fake.faults.counts == {"status": 1}
    assert proc.stderr == ""


def test_unknown_reason_type_names_the_cli_flag(fake: FakePleo, url: str) -> None:
    """An unknown ``--reason-type`` is a usage error whose advice is a flag, not the Python
    call ``ExportJobFailureReasonType(...)``; nothing is sent."""
    job_id = fake.jobs()[0]["id"]
    assert cli("jobs", "start", job_id, url=url).returncode == 0
    proc = cli("jobs", "fail", job_id, "--reason", "x", "--reason-type", "erp_on_fire", url=url)
    assert proc.returncode == 2
    line = one_line_error(proc)
    assert "--new-reason-type" in line
    assert "accounting_system_unreachable" in line
    assert "ExportJobFailureReasonType(" not in line
    assert fake.job(job_id)["status"] == "in_progress"


def test_insecure_base_url_names_the_cli_flag(url: str) -> None:
    """Plain http to another host is refused with advice to pass ``--allow-insecure-http``,
    not the Python argument ``allow_insecure_http=True``."""
    proc = cli("jobs", "list", "--base-url", "http://pleo.example.test", url=url)
    assert proc.returncode == 3
    line = one_line_error(proc)
    assert "--allow-insecure-http" in line
    assert "allow_insecure_http=True" not in line


def test_allow_insecure_http_flag_reaches_the_client() -> None:
    """``--allow-insecure-http`` builds a client for a plain-http remote base URL."""
    remote = ["--base-url", "http://pleo.example.test", "--allow-insecure-http"]
    args = build_parser().parse_args(["jobs", "list", "--api-key", "k", *remote])
    assert build_client(args).base_url == "http://pleo.example.test"


def test_items_export_jsonl_without_progress_when_piped(
    fake: FakePleo, url: str, tmp_path: Path
) -> None:
    """JSON Lines export writes every item once and draws no bar when stderr is not a terminal."""
    job = fake.jobs()[1]
    out = tmp_path / "items.jsonl"
    proc = cli("items", "export", job["id"], "--output", str(out), url=url)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    items = [json.loads(line) for line in out.read_text().splitlines()]
    assert len({i["accountingEntryId"] for i in items}) == len(items) == 250
    expected = fake.export_item(job["id"], items[0]["accountingEntryId"])
    assert items[0]["amount"] == expected["amount"]
    assert items[0]["accountingEntryLines"] == expected["accountingEntryLines"]
    assert "wrote 250 items" in proc.stdout


def test_items_export_csv_with_progress(fake: FakePleo, url: str, tmp_path: Path) -> None:
    """CSV export has the documented header, one row per item, and --progress always draws."""
    job_id = fake.jobs()[0]["id"]
    out = tmp_path / "items.csv"
    proc = cli("items", "export", job_id, "-o", str(out), "--progress", "always", url=url)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 40
    assert rows[0]["accountingEntryId"] == fake.accounting_entry_ids(job_id, 0, 1)[0]
    assert "40/40 items" in proc.stderr


def test_items_export_to_stdout(fake: FakePleo, url: str) -> None:
    """With no --output the items go to stdout, nothing else does."""
    job_id = fake.jobs()[0]["id"]
    proc = cli("items", "export", job_id, url=url)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 40


def test_items_export_of_finished_job_is_api_error(
    fake: FakePleo, url: str, tmp_path: Path
) -> None:
    """Pleo refuses export items of a finished job (422); the CLI exits 1 with that reason."""
    proc = cli("items", "export", fake.jobs()[2]["id"], "-o", str(tmp_path / "x"), url=url)
    assert proc.returncode == 1
    assert "EXPORT_JOB_STATUS_UNPROCESSABLE" in one_line_error(proc)


def test_failed_items_export_leaves_no_partial_file(
    fake: FakePleo, url: str, tmp_path: Path
) -> None:
    """A failed ``items export -o x.csv`` writes no header-only file, leaves no temporary file
    and keeps an older file of that name as it was."""
    finished = fake.jobs()[2]["id"]
    assert cli("items", "export", finished, "-o", str(tmp_path / "new.csv"), url=url).returncode
    assert list(tmp_path.iterdir()) == []
    old = tmp_path / "old.csv"
    old.write_text("yesterday's export\n")
    assert cli("items", "export", finished, "-o", str(old), url=url).returncode == 1
    assert old.read_text() == "yesterday's export\n"
    assert list(tmp_path.iterdir()) == [old]


def test_job_items_summary(fake: FakePleo, url: str) -> None:
    """The summary counts items per status and lists failures with their reasons."""
    job_id = fake.jobs()[2]["id"]
    proc = cli("job-items", "summary", job_id, url=url)
    assert proc.returncode == 0, proc.stderr
    assert "successful   4" in proc.stdout
    assert "Seeded failure" in proc.stdout
    proc = cli("job-items", "summary", job_id, "--json", url=url)
    summary = json.loads(proc.stdout)
    assert summary["counts"]["failed"] == 1
    assert summary["total"] == 5
    assert summary["failures"][0]["failureReasonType"] == "validation_failure"


def test_bearer_token_from_environment(url: str) -> None:
    """PLEO_BEARER_TOKEN authenticates when no API key is set."""
    env_url = url
    proc = subprocess.run(
        [sys.executable, "-m", "pleo_export._cli", "jobs", "list", "--json"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("PLEO_")},
            "PLEO_BEARER_TOKEN": "pleo-test-token",
            "PLEO_BASE_URL": env_url,
        },
    )
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 3


def test_flags_override_environment(url: str) -> None:
    """--api-key and --base-url work with nothing in the environment, after the command name."""
    proc = cli("jobs", "list", "--base-url", url, "--api-key", SECRET, key=None)
    assert proc.returncode == 0, proc.stderr
    assert SECRET not in proc.stdout + proc.stderr


def test_spec_diff_runs_the_drift_report() -> None:
    """``spec diff`` reports the changes between two spec files, as text or JSON."""
    base, revised = REPO / "tests/data/drift/base.yaml", REPO / "tests/data/drift/revised.yaml"
    proc = cli("spec", "diff", str(base), str(revised), key=None)
    assert proc.returncode == 0, proc.stderr
    assert "breaking" in proc.stdout
    proc = cli("spec", "diff", str(base), str(revised), "--json", key=None)
    assert json.loads(proc.stdout)
    proc = cli("spec", "diff", str(base), str(revised), "--fail-on", "breaking", key=None)
    assert proc.returncode == 1


def test_fake_server_command_serves_until_stopped() -> None:
    """``fake-server --port 0`` prints its URL and answers the CLI until terminated."""
    server = subprocess.Popen(
        [sys.executable, "-m", "pleo_export._cli", "fake-server", "--jobs", "2", "--items", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        first = server.stdout.readline()
        base_url = first.rsplit(" ", 1)[-1].strip()
        assert base_url.startswith("http://127.0.0.1:")
        proc = cli("jobs", "list", "--json", url=base_url, key="pleo-test-key")
        assert proc.returncode == 0, proc.stderr
        assert [j["numberOfItems"] for j in json.loads(proc.stdout)] == [3, 3]
    finally:
        server.terminate()
        server.wait(timeout=TIMEOUT)


def test_items_export_draws_progress_on_a_terminal(
    fake: FakePleo, url: str, tmp_path: Path
) -> None:
    """With stderr on a terminal (a pty) and no --progress flag, the bar shows items of total."""
    job_id = fake.jobs()[1]["id"]
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEO_")}
    env |= {"PLEO_API_KEY": SECRET, "PLEO_BASE_URL": url}
    out = tmp_path / "items.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "pleo_export._cli", "items", "export", job_id, "-o", str(out)],
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
        env=env,
        timeout=TIMEOUT,
        check=False,
    )
    os.close(follower)
    drawn = b""
    try:
        while chunk := os.read(leader, 4096):
            drawn += chunk
    except OSError:  # the pty is drained once the child has closed it
        pass
    finally:
        os.close(leader)
    assert proc.returncode == 0
    assert b"250/250 items" in drawn
    assert b"[" + b"#" * 30 + b"]" in drawn


def test_items_files_downloads_every_file_once_and_skips_them_on_rerun(
    fake: FakePleo, url: str, tmp_path: Path
) -> None:
    """``items files`` stores each receipt by SHA-256 with a manifest, byte for byte as served;
    a rerun downloads nothing; a file changed on disk is fetched again."""
    job_id = fake.jobs()[0]["id"]
    out = tmp_path / "receipts"
    proc = cli("items", "files", job_id, "--output", str(out), "--json", url=url)
    assert proc.returncode == 0, proc.stderr
    first = json.loads(proc.stdout)
    manifest = json.loads((out / "files.json").read_text())
    expected = {
        f"{entry}/{n}": content
        for entry in fake.accounting_entry_ids(job_id)
        for n, content in enumerate(fake.file_contents(job_id, entry))
    }
    assert first["downloaded"] == len(manifest) == len(expected) > 0
    for key, content in expected.items():
        assert (out / manifest[key]["name"]).read_bytes() == content
    assert SECRET not in proc.stdout + proc.stderr
    requests = len(fake.file_requests)

    again = cli("items", "files", job_id, "--output", str(out), "--json", url=url)
    assert json.loads(again.stdout)["skipped"] == len(expected)
    assert len(fake.file_requests) == requests

    damaged = out / next(iter(manifest.values()))["name"]
    damaged.write_bytes(b"not the receipt")
    third = cli("items", "files", job_id, "--output", str(out), "--progress", "always", url=url)
    assert third.returncode == 0, third.stderr
    assert "1 files downloaded" in third.stdout
    assert "files" in third.stderr  # the progress line
    assert len(fake.file_requests) == requests + 1


def test_items_files_reports_failed_downloads(fake: FakePleo, url: str, tmp_path: Path) -> None:
    """Files the host refuses to serve in full are listed on stderr with their receipt failure
    type, the others are still stored, and the exit code is 1."""
    job_id = fake.jobs()[0]["id"]
    fake.faults.add("oversized", times=1)
    proc = cli("items", "files", job_id, "-o", str(tmp_path), url=url)
    assert proc.returncode == 1
    assert "receipt_file_size_limit_exceeded" in proc.stderr
    assert "0 failed" not in proc.stdout
    assert "1 failed" in proc.stdout
