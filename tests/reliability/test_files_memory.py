"""The streaming memory bound of file downloads, measured in a subprocess: saving a 30 MB receipt
raises the downloader's peak RSS by a small fraction of the file, where reading it into memory
(the control that shows the measure can see a whole file) raises it by at least the file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pleo_export.testing import FakePleo

#: Just under the default cap (30 MiB); Pleo's guides allow 30 MB.
SIZE = 30_000_000
#: "Well under its size": a quarter of the file at most.
BOUND = SIZE // 4

_CHILD = """
import asyncio, json, re, sys
from pathlib import Path
from pleo_export import ItemFile, PleoExport

def peak() -> int:
    # VmHWM, not ru_maxrss: a forked child's ru_maxrss starts at its parent's RSS.
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) * 1024

async def main(small: str, big: str, size: int, out: str) -> None:
    async with PleoExport(api_key="unused-for-files", base_url="http://127.0.0.1:9") as pleo:
        warm = ItemFile(url=small, media_type="application/pdf", size=50_000)
        await pleo.files.save(warm, out + ".warm")  # every code path loaded before measuring
        file = ItemFile(url=big, media_type="application/pdf", size=size)
        before = peak()
        saved = await pleo.files.save(file, out)
        after_save = peak()
        read = await pleo.files.read(file)
        after_read = peak()
    assert saved.sha256 == read.sha256
    print(json.dumps({"save": after_save - before, "read": after_read - after_save}))

asyncio.run(main(*sys.argv[1:3], int(sys.argv[3]), sys.argv[4]))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's VmHWM")
def test_saving_a_30_mb_file_keeps_peak_rss_far_below_its_size(
    fake_pleo: FakePleo, fake_pleo_server: str, tmp_path: Path
) -> None:
    """Peak RSS growth while streaming a 30 MB file to disk stays under a quarter of its size;
    fails if ``save`` buffered the body (the ``read`` control proves a buffer would show)."""
    small = fake_pleo.file_url(fake_pleo_server, size=50_000, name="warm.pdf")
    big = fake_pleo.file_url(fake_pleo_server, size=SIZE, name="big.pdf")
    target = tmp_path / "big.pdf"
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, small, big, str(SIZE), str(target)],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    growth = json.loads(proc.stdout)
    assert target.stat().st_size == SIZE
    assert growth["save"] < BOUND, growth
    assert growth["read"] >= SIZE // 2, growth
