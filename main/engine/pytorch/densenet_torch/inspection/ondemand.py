"""Inspection on request (the `inspect` and `inspectRun` commands), reported as the TF.js engine's
main/engine/inspect/on-demand.ts reports it, so a host and the UI see every request end:
`inspectProgress` while a long one (ablation, evaluation) runs, at most ~10 a second; the result
event; then exactly one `inspectDone` (ok, or the error as data, or cancelled). Requests with an id
can be cancelled; cancellation takes effect at the next chunk (a batch, a layer)."""
import threading
import time
from typing import Any, Callable, Dict, Optional

from ..errors import UserError, error_data


class Cancelled(Exception):
    pass


class Work:
    """Progress and cancellation handed to a long probe."""

    def __init__(self, progress: Callable[[int, int, str], None], cancelled: threading.Event):
        self._progress, self._cancelled = progress, cancelled

    def step(self, done: int, total: int, message: str) -> None:
        if self._cancelled.is_set():
            raise Cancelled()
        self._progress(done, total, message)


class OnDemand:
    def __init__(self, run_id: str, emit: Callable[[Dict[str, Any]], None], now: Callable[[], float], progress_every_ms: float = 100):
        self.run_id, self.emit, self.now, self.every = run_id, emit, now, progress_every_ms
        self.running: Dict[str, threading.Event] = {}

    def cancel(self, request_id: str) -> bool:
        flag = self.running.get(request_id)
        if flag is not None:
            flag.set()
        return flag is not None

    def run(self, inspector: Any, what: str, sample: int = 0, request_id: Optional[str] = None) -> None:
        ids = {"requestId": request_id} if request_id is not None else {}
        started = self.now()
        flag = threading.Event()
        if request_id is not None:
            self.running[request_id] = flag
        last = [-float("inf")]

        def progress(done: int, total: int, message: str) -> None:
            t = self.now()
            if t - last[0] < self.every and done < total:
                return
            last[0] = t
            self.emit({"type": "inspectProgress", "runId": self.run_id, **ids, "what": what, "done": done, "total": total,
                       "message": message, "time": t})

        def done(**extra: Any) -> None:
            self.emit({"type": "inspectDone", "runId": self.run_id, **ids, "what": what, **extra,
                       "seconds": (self.now() - started) / 1000, "time": self.now()})
        try:
            event = inspector.compute(what, sample, Work(progress, flag))
            if event is None:
                why = f"This run has no validation split to compute {what} on."
                done(ok=False, error={"name": "WorkbenchError", "message": why, "user": True})
                return
            self.emit(event)
            done(ok=True)
        except Cancelled:
            done(ok=False, cancelled=True, error={"name": "InspectionCancelled", "message": f"The {what} request was cancelled.", "user": True})
        except Exception as err:  # noqa: BLE001 - every request ends with inspectDone, never an exception
            data = error_data(err, with_stack=False)
            done(ok=False, error={"name": data["name"], "message": data["message"], "user": isinstance(err, UserError)})
        finally:
            self.running.pop(request_id, None) if request_id is not None else None


def wall_ms() -> float:
    return time.time() * 1000
