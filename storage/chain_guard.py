"""The hash chain enforced, not only verifiable: what the server checks at start and in the background.

At start the guard checks the last links of the chain (`tail` events, each against the stored link before it),
so an altered recent event is known before the first request; then a thread walks the whole chain from its start,
with its progress readable at any moment. Once either finds a break, the guard logs `chain: broken at N`, and
every insert through the recorder is refused with `ChainRefused`, which says where and why: the log is no longer
what was written, and adding to it would hide that under new links. Restoring from a backup, or an operator who
has examined the log and accepts it (`diplo verify` names every break), is the way out; a restart checks again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

from storage.chain import Break, ChainedRecorder, ChainRefused, ChainReport, _Walker, verify

log = logging.getLogger(__name__)

# tail-ok: the last links hold, and the whole chain is not (yet) walked.
State = Literal["unchecked", "tail-ok", "checking", "ok", "broken"]
RETRY_SECONDS = 30.0  # a full check interrupted by a store outage starts again after this long


@dataclass
class Progress:
    checked: int = 0  # the position the walk has reached
    of: int = 0  # the position it walks to (the end of the log when it began)


def describe(found: Break) -> str:
    """The one line that names a break, in the log and in /healthz."""
    return f"chain: broken at {found.position} ({found.kind}): {found.detail}"


class ChainGuard:
    """Checks a chained recorder's log and, once it knows the chain is broken, makes the recorder refuse writes."""

    def __init__(self, recorder: ChainedRecorder, *, tail: int = 1000, page_size: int = 2000) -> None:
        self.recorder = recorder
        self.tail = tail
        self.page_size = page_size
        self.state: State = "unchecked"
        self.tail_checked = False
        self.progress = Progress()
        self.broken: Break | None = None
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what is known ---------------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """What /healthz shows: the state, the full walk's progress, and the break if one is known."""
        body: dict[str, Any] = {"state": self.state, "tail_checked": self.tail_checked,
                                "checked": self.progress.checked, "of": self.progress.of}
        if self.broken is not None:
            body |= {"broken_at": self.broken.position, "kind": self.broken.kind, "detail": describe(self.broken)}
        if self.error is not None:
            body["error"] = self.error
        return body

    def _found(self, report: ChainReport) -> None:
        first = report.first_break
        if first is None or self.broken is not None:
            return
        self.broken = first
        self.state = "broken"
        message = describe(first)
        # The recorder refuses every insert from now on, with the reason (storage.sqlite, storage.postgres).
        self.recorder.write_refusal = (f"writes are refused: the event log's {message}. The stored log no longer "
                                       "matches what was written; run `diplo verify`, then restore a backup")
        log.error("%s; writes are refused until the log is restored and the server restarted", message)

    # -- the checks ------------------------------------------------------------------------------------------

    def check_tail(self) -> None:
        """Verifies the last `tail` links (the whole chain when the log is no longer than that)."""
        stop = self.recorder.chain_stop()
        if stop <= self.tail + 1:
            report = verify(self.recorder, page_size=self.page_size)
        else:
            report = self._verify_window(stop - self.tail - 1, stop)
        self.tail_checked = True
        self._found(report)
        if self.broken is None:
            self.state = "tail-ok"

    def _verify_window(self, after: int, stop: int) -> ChainReport:
        """The links after position `after`, each against the stored link before it (the first linked row of
        the window is taken as it is: what precedes it is the full walk's to check)."""
        report = ChainReport()
        walker = _Walker(report, None, max_breaks=10)
        rows = list(self.recorder.chain_rows(after, stop, self.tail + 2))
        while rows and rows[0].hash is None:
            rows.pop(0)  # events stored before the chain began: nothing to check them against here
        if not rows:
            return report
        base = rows[0]
        walker.before, walker.before_position, walker.last_seen = base.hash, base.position, base.position
        for row in rows[1:]:
            walker.row(row)
        return report

    def start(self) -> None:
        """Walks the whole chain on a thread of its own; `status()` shows how far it has come."""
        if self.broken is not None:
            return
        self.state = "checking"
        self._thread = threading.Thread(target=self._walk, name="diplo-chain-check", daemon=True)
        self._thread.start()

    def _walk(self) -> None:
        while not self._stop.is_set():
            try:
                report = verify(self.recorder, page_size=self.page_size, progress=self._progressed)
            except _Stopped:
                return
            except Exception as error:  # the store went away: say so, and walk again later
                self.error = f"{type(error).__name__}: {error}"
                log.warning("chain check interrupted (%s); starting again in %.0f s", self.error, RETRY_SECONDS)
                self._stop.wait(RETRY_SECONDS)
                continue
            self.error = None
            self._found(report)
            if self.broken is None:
                self.state = "ok"
                log.info("chain: OK, %d events linked up to position %s", report.linked, report.head_position)
            return

    def _progressed(self, position: int, stop: int) -> None:
        if self._stop.is_set():
            raise _Stopped
        self.progress.checked, self.progress.of = position, stop

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def wait(self, timeout: float) -> bool:
        """Until the full walk has finished (tests, `diplo` commands); whether it has."""
        deadline = time.monotonic() + timeout
        while self.state == "checking" and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.state != "checking"


class _Stopped(Exception):
    """The guard was stopped mid-walk."""


__all__ = ["ChainGuard", "ChainRefused", "describe"]
