"""The route of one item outcome, measured: from ``run.succeeded(work)`` to the PUT, through at
most 8 hand-written files, and no call back into a file already on the way (issue 25).

A ``sys.setprofile`` hook records every new frame of the package (a resumed coroutine is not a
new call) while one booked item is recorded and flushed against the in-process fake. Helpers
that hand back a scalar or a check are left out, as the issue's own count left out ``_retry``
and ``_limits``: see ``LEFT_OUT``. docs/architecture.md draws the route these tests hold.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from pleo_export import PleoExport
from pleo_export.testing import FakePleo

PACKAGE = Path(sys.modules["pleo_export"].__file__ or "").parent

#: Files that hand back a scalar or a check (argument and lease checks, a WorkItem's entry id,
#: a status as text) or that every request passes whatever it carries (deadlines and size caps,
#: auth, hooks and response meta): not counted as the route.
LEFT_OUT = frozenset(
    {
        "_validation.py",
        "_work.py",
        "_lifecycle.py",
        "coordination/_policy.py",
        "_wire/_limits.py",
        "_auth.py",
        "_observe/_hooks.py",
        "_observe/_meta.py",
    }
)
#: The fake's files: a frame there is the request arriving at "Pleo".
THE_FAKE = "testing/"


@dataclass
class Route:
    """The package's files in the order traced calls first entered them."""

    #: Every file entered, in order (the answer's way back included).
    files: list[str] = field(default_factory=list)
    #: The files entered before the first frame of the fake (the PUT reaching Pleo).
    to_the_put: list[str] | None = None
    #: (caller, callee) for each call from a file into one the same descent entered before it
    #: (a callback into a file on the way down): a move back up.
    back: list[tuple[str, str]] = field(default_factory=list)
    _descent: list[str] = field(default_factory=list)
    _others: set[asyncio.Task[object]] = field(default_factory=set)
    _seen: set[int] = field(default_factory=set)
    _frames: list[FrameType] = field(default_factory=list)

    async def trace(self, call: Callable[[], Awaitable[None] | None]) -> None:
        """Trace one public call; each starts a descent of its own from the top."""
        self._descent = []
        self._others = asyncio.all_tasks() - {asyncio.current_task()}
        sys.setprofile(self._profile)
        try:
            result = call()
            if result is not None:
                await result
        finally:
            sys.setprofile(None)

    def _profile(self, frame: FrameType, event: str, arg: object) -> None:
        if event != "call" or id(frame) in self._seen:
            return  # a return, or a coroutine resumed: not a new call
        self._seen.add(id(frame))
        self._frames.append(frame)  # kept alive, so that its id is not reused
        callee = _ours(frame)
        if callee is None or callee in LEFT_OUT or asyncio.current_task() in self._others:
            return  # not ours, left out, or another task the run had going (a pager, renewals)
        if callee.startswith(THE_FAKE):
            if self.to_the_put is None:
                self.to_the_put = list(self.files)
            return
        caller = _ours(frame.f_back)
        descent = self._descent
        if (
            caller in descent
            and callee in descent
            and descent.index(callee) < descent.index(caller)
        ):
            self.back.append((caller, callee))
        if callee not in self._descent:
            self._descent.append(callee)
        if callee not in self.files:
            self.files.append(callee)


def _ours(frame: FrameType | None) -> str | None:
    """The frame's file relative to the package, or None outside it."""
    if frame is None:
        return None
    path = Path(frame.f_code.co_filename)
    if not path.is_relative_to(PACKAGE):
        return None
    return path.relative_to(PACKAGE).as_posix()


async def test_an_outcome_reaches_the_put_through_at_most_8_files_one_way(
    pleo: PleoExport, fake_pleo: FakePleo
) -> None:
    """``succeeded`` then ``flush``: at most 8 hand-written files before the PUT reaches the
    fake, and no call back into a file already on the way. Fails if the outbox calls back into
    the recorder (a send lambda, an ``on_result``), the recorder into the run (a ``check_open``),
    or the route grows a file (``report`` through the resource again, a forwarding step)."""
    job_id = fake_pleo.add_job(items=1)
    route = Route()
    async with pleo.export_run(job_id) as run:
        (work,) = [work async for work in run.pending()]  # the reader is done: nothing else runs
        await route.trace(lambda: run.succeeded(work, external_id="V-1"))
        await route.trace(run.flush)
    assert run.stats.delivered == 1
    assert route.back == [], route.files
    assert route.to_the_put is not None, route.files
    assert len(route.to_the_put) <= 8, route.to_the_put
    assert route.to_the_put[0] == "_run.py"
