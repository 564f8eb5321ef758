"""The protocol session: the PyTorch trainer process as a workbench host sees it.

Commands arrive as JSON lines on stdin and are validated against the generated JSON Schema
(./schema.py); a malformed one is answered with an `error` event (fatal: false) and the process
goes on. Events leave as JSON lines on a private duplicate of stdout: the real stdout is pointed at
stderr first, so anything a library prints can never corrupt the event stream. One run at a time
trains, on the main thread; a reader thread hands pause/resume/stop/snapshot/inspect to it.
End of stdin (the host is gone) or SIGTERM stops the run with a checkpoint, then the process exits.
"""
import json
import os
import queue
import signal
import sys
import threading
import time
from typing import Any, Dict, Optional

from . import ENGINE_VERSION
from .distributed import Dist
from .errors import UserError, error_data
from .inspect_run import InspectRunWorker
from .schema import ProtocolSchemas
from .trainer import RunTrainer

PROTOCOL_VERSION = 1


class EventSink:
    """JSON lines to one file descriptor, one write per event, from any thread."""

    def __init__(self, fd: int, check: Optional[ProtocolSchemas] = None):
        self.fd = fd
        self.lock = threading.Lock()
        self.check = check
        self.broken = False

    def __call__(self, event: Dict[str, Any]) -> None:
        if self.check is not None:
            problem = self.check.error("event", event)
            if problem:
                # A bug on this side: say so on stderr, and still send it (the host refuses it with a logged reason).
                sys.stderr.write(f"densenet_torch: emitting an invalid {event.get('type')} event ({problem})\n")
        line = (json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")
        with self.lock:
            if self.broken:
                return
            try:
                os.write(self.fd, line)
            except (BrokenPipeError, OSError):
                self.broken = True  # the host is gone; metrics.jsonl still gets every event


def private_stdout() -> int:
    """A duplicate of fd 1 for events; fd 1 itself then goes to stderr."""
    fd = os.dup(1)
    sys.stdout.flush()
    os.dup2(2, 1)
    return fd


class Session:
    def __init__(self, sink: EventSink, schemas: ProtocolSchemas, dist: Optional[Dist] = None):
        self.sink = sink
        self.schemas = schemas
        self.trainer = RunTrainer(self._emit, dist=dist)
        self.worker = InspectRunWorker(self._emit)
        self.runs: "queue.Queue[Optional[Dict[str, Any]]]" = queue.Queue()
        self.busy = False
        self.closing = False

    def _emit(self, event: Dict[str, Any]) -> None:
        # A run is over for the host once it reads `finished`, and the host may send the next start
        # at once: take it from then on, not only once the training thread has tidied up.
        if event.get("type") == "finished" or (event.get("type") == "inspectDone" and self.worker.current is not None):
            self.busy = False
        self.sink(event)

    def now(self) -> float:
        return time.time() * 1000

    def error(self, err: BaseException) -> None:
        self.sink({"type": "error", "error": error_data(err, not isinstance(err, UserError)), "fatal": False, "time": self.now()})

    def receive(self, line: str) -> None:
        """One line from the host (reader thread)."""
        if not line.strip():
            return
        try:
            message = json.loads(line, parse_constant=_reject_constant)
        except ValueError as err:
            self.sink({"type": "error", "error": {"name": "ProtocolError", "message": f"Rejected a command that is not JSON ({err}). Got {line[:200]!r}.",
                                                  "user": False}, "fatal": False, "time": self.now()})
            return
        problem = self.schemas.error("command", message)
        if problem:
            self.sink({"type": "error", "error": {"name": "ProtocolError", "user": False,
                                                  "message": f"Rejected a malformed command at {problem}. Got {json.dumps(message)[:200]}."},
                       "fatal": False, "time": self.now()})
            return
        try:
            self.handle(message)
        except Exception as err:  # noqa: BLE001 - reported, and the session goes on
            self.error(err)

    def handle(self, c: Dict[str, Any]) -> None:
        kind = c["type"]
        t = self.trainer
        if kind in ("start", "resumeRun", "inspectRun"):
            if self.busy:
                if kind == "inspectRun":
                    raise UserError(f"Run {t.run_id or ''} is training in this trainer; inspect it with `inspect`, or start another trainer.")
                raise UserError(f"Run {t.run_id or ''} is still in progress; stop it before starting another.")
            self.busy = True
            self.runs.put(c)
        elif kind == "cancelInspect":
            if not (t.cancel_inspect(c["requestId"]) or self.worker.cancel(c["requestId"])):
                raise UserError(f"No inspection {c['requestId']} is in progress in this trainer; there is nothing to cancel.")
        elif kind == "stop":
            if not t.stop("user"):
                raise UserError("No run is training; there is nothing to stop.")
        elif kind in ("pause", "resume", "snapshot"):
            control = t.control
            if control is None:
                raise UserError(f"No run is training; cannot {kind}.")
            {"pause": control.pause, "resume": control.resume, "snapshot": control.request_snapshot}[kind]()
        elif kind == "inspect":
            t.inspect(c["what"], c.get("sample", 0), c.get("requestId"))

    def host_lost(self, cause: str) -> None:
        self.closing = True
        if not self.trainer.stop(cause):
            self.runs.put(None)

    def serve(self) -> int:
        """Trains the runs the host asks for, one at a time, until the host goes away. Under
        torchrun, each run command goes to every rank (they train it together)."""
        dist = self.trainer.dist
        while True:
            c = None if self.closing else self.runs.get()
            if c is None or c["type"] != "inspectRun":  # an inspection is rank 0's alone
                dist.broadcast_command(c)
            if c is None:
                return 0
            try:
                if c["type"] == "inspectRun":
                    self.worker.run(c)
                else:
                    self.trainer.train(c["runDir"], fresh=c["type"] == "start", options=_options(c))
            finally:
                self.busy = False


def _options(c: Dict[str, Any]) -> Dict[str, Any]:
    s = c.get("settings") or {}
    return {k: s[k] for k in ("device", "precision", "channelsLast") if k in s}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def run_protocol() -> int:
    dist = Dist()
    dist.init()
    sink = EventSink(private_stdout(), ProtocolSchemas() if os.environ.get("WORKBENCH_TORCH_CHECK_EVENTS") else None)
    session = Session(sink, ProtocolSchemas(), dist)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the host decides
    if not dist.main:
        # Under torchrun every rank inherits the host's stdin; only rank 0 reads it and talks back.
        sink.broken = True
        signal.signal(signal.SIGTERM, lambda *_: session.trainer.stop("terminated"))
        return _follow(session)

    def reader() -> None:
        for line in sys.stdin:
            session.receive(line)
        session.host_lost("host-lost")

    threading.Thread(target=reader, name="commands", daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: session.host_lost("terminated"))
    sink({"type": "ready", "pid": os.getpid(), "protocol": PROTOCOL_VERSION, "engine": "pytorch", "engineVersion": ENGINE_VERSION})
    try:
        return session.serve()
    finally:
        dist.close()


def _follow(session: Session) -> int:
    """Ranks > 0: train each run rank 0 announces, until it says there are no more."""
    dist = session.trainer.dist
    failed = False
    try:
        while True:
            c = dist.broadcast_command(None)
            if c is None:
                return 1 if failed else 0
            failed = session.trainer.train(c["runDir"], fresh=c["type"] == "start", options=_options(c)) == "failed" or failed
    finally:
        dist.close()
