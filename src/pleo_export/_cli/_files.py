"""``pleo-export items files JOB_ID --output DIR``: every file (receipt) of a running job on disk.

Files are stored content-addressed (``<sha256><extension>``, one copy per distinct content) and
``files.json`` in the same folder maps each export item's files to them. A rerun skips every
file the manifest lists whose stored copy still hashes right, so nothing is downloaded twice.
Items are handled a page at a time, so a job of any size needs one page in memory.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .._client import PleoExport
from .._errors import FileDownloadError
from ._output import Progress, print_json, progress_enabled

if TYPE_CHECKING:  # the download machinery (asyncio, httpx) loads when the command runs
    from .._download import ItemFile

__all__ = ["MANIFEST", "register"]

#: The manifest of a download folder: ``"<entry id>/<index>"`` → the stored file's details.
MANIFEST: Final = "files.json"
_READ_CHUNK: Final = 1 << 20


def _sha256_of(path: Path) -> str | None:
    """The SHA-256 of a file on disk, or None if it is not there."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_READ_CHUNK):
                digest.update(chunk)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


def _load_manifest(path: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError:
        return {}  # unreadable: every file is checked by downloading again
    return data if isinstance(data, dict) else {}


def _write_manifest(path: Path, manifest: dict[str, dict[str, Any]]) -> None:
    temp = path.with_name(path.name + ".part")
    temp.write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(temp, path)


class _Download:
    """The state of one ``items files`` run: folder, manifest, counters and failures."""

    def __init__(self, pleo: PleoExport, folder: Path, progress: Progress) -> None:
        self.pleo = pleo
        self.folder = folder
        self.progress = progress
        self.manifest = _load_manifest(folder / MANIFEST)
        self.downloaded = self.skipped = self.bytes = 0
        self.failures: list[str] = []

    async def one(self, file: ItemFile) -> None:
        import asyncio

        key = f"{file.accounting_entry_id}/{file.index}"
        known = self.manifest.get(key)
        if known is not None and known.get("size") == file.size:
            stored = self.folder / str(known.get("name", ""))
            if await asyncio.to_thread(_sha256_of, stored) == known.get("sha256"):
                self.skipped += 1
                self.progress.advance(1)
                return
        try:
            got = await self.pleo.files.store(file, self.folder)
        except FileDownloadError as exc:
            self.failures.append(f"{key}: {exc.failure_type}: {exc}")
        else:
            assert got.path is not None
            self.manifest[key] = {
                "sha256": got.sha256,
                "mediaType": got.media_type,
                "size": got.size,
                "name": got.path.name,
            }
            self.downloaded += 1
            self.bytes += got.size
        self.progress.advance(1)


async def _download_files(pleo: PleoExport, args: argparse.Namespace) -> int:
    import asyncio

    folder = Path(args.output)
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    progress = Progress(
        f"files {args.job_id}",
        unit="files",
        enabled=progress_enabled(args.progress) and not args.json,
    )
    run = _Download(pleo, folder, progress)
    try:
        async for page in pleo.export_items.list(args.job_id).pages():
            files = [f for item in page.items for f in pleo.files.of(item, job_id=args.job_id)]
            # A page's files side by side; the client keeps at most 4 downloads in flight.
            await asyncio.gather(*(run.one(file) for file in files))
    finally:
        await asyncio.to_thread(_write_manifest, folder / MANIFEST, run.manifest)
        progress.finish()
    for failure in run.failures:
        print(f"pleo-export: failed: {failure}", file=sys.stderr)
    summary = {
        "jobId": args.job_id,
        "downloaded": run.downloaded,
        "skipped": run.skipped,
        "failed": len(run.failures),
        "bytes": run.bytes,
        "output": str(folder),
    }
    if args.json:
        print_json(summary)
    else:
        print(
            f"{run.downloaded} files downloaded ({run.bytes:,} bytes), {run.skipped} already "
            f"present, {len(run.failures)} failed → {folder}"
        )
    return 1 if run.failures else 0


def register(
    actions: argparse._SubParsersAction[argparse.ArgumentParser],
    common: argparse.ArgumentParser,
) -> None:
    """Add ``items files`` to the ``items`` command's actions."""
    files = actions.add_parser(
        "files",
        parents=[common],
        help="download every file (receipt) of a running job's export items into a folder",
    )
    files.add_argument("job_id", metavar="JOB_ID")
    files.add_argument(
        "--output",
        "-o",
        required=True,
        metavar="DIR",
        help=f"the folder: files named by SHA-256, plus {MANIFEST}; files already there with "
        "the same hash are skipped",
    )
    files.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="progress bar on stderr (auto: only on a terminal)",
    )
    files.set_defaults(handler=_download_files)
