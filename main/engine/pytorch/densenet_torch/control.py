"""Pause / resume / stop / snapshot for a running loop, acted on between steps, as the TF.js
engine's TrainControl (main/engine/train/control.ts). Commands arrive on a reader thread; the loop
asks `gate()` before every step. While the loop waits (paused), queued inspection requests still
run, on the training thread, so they never overlap a step."""
import threading
from typing import Callable, List, Optional, Tuple


class Control:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.state = "running"  # running | paused | stopping
        self._snapshot = False
        self._announced_pause = False
        self._jobs: List[Tuple[str, Callable[[], None]]] = []
        self.listeners: List[Callable[[str], None]] = []

    @property
    def stop_requested(self) -> bool:
        return self.state == "stopping"

    def pause(self) -> None:
        with self._cond:
            if self.state == "running":
                self.state = "paused"
                self._cond.notify_all()

    def resume(self) -> None:
        announce = False
        with self._cond:
            if self.state != "paused":
                return
            self.state = "running"
            announce = self._announced_pause
            self._announced_pause = False
            self._cond.notify_all()
        if announce:
            self._emit("running")

    def stop(self) -> bool:
        """True when this call asked for the stop (False: it was already stopping)."""
        with self._cond:
            if self.state == "stopping":
                return False
            self.state = "stopping"
            self._cond.notify_all()
            return True

    def request_snapshot(self) -> None:
        with self._cond:
            self._snapshot = True
            self._cond.notify_all()

    def submit(self, what: str, job: Callable[[], None]) -> None:
        """Runs `job` on the training thread at the next step boundary (or at once while paused)."""
        with self._cond:
            self._jobs.append((what, job))
            self._cond.notify_all()

    def run_jobs(self) -> None:
        while True:
            with self._cond:
                if not self._jobs:
                    return
                _, job = self._jobs.pop(0)
            job()

    def gate(self, poll: Optional[Callable[[], None]] = None) -> str:
        """'go', 'stop' or 'snapshot'. Blocks while paused; `poll` runs about once a second then."""
        while True:
            self.run_jobs()
            with self._cond:
                if self._snapshot:
                    self._snapshot = False
                    return "snapshot"
                if self.state == "stopping":
                    return "stop"
                if self.state == "running" and not self._jobs:
                    return "go"
                announce = self.state == "paused" and not self._announced_pause
                if announce:
                    self._announced_pause = True
            if announce:
                self._emit("paused")
                continue
            with self._cond:
                if self.state == "paused" and not self._jobs and not self._snapshot:
                    self._cond.wait(1.0)
            if poll:
                poll()

    def _emit(self, state: str) -> None:
        for listener in list(self.listeners):
            listener(state)
