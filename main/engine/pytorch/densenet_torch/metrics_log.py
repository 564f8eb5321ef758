"""`metrics.jsonl`, as main/engine/runs' metrics log writes it: one event a line, append-only,
each line self-validating, `{"crc":"1a2b3c4d","len":123,"event":{...}}`, with the CRC-32 and the
length over the UTF-8 bytes of the event's JSON. A line torn by a killed writer fails the check and
is skipped by every reader, so a partial line is never taken for a metric."""
import json
import os
import re
import zlib
from typing import Any, Dict, List, Optional

METRICS_FILE = "metrics.jsonl"
_LINE = re.compile(r'^\{"crc":"([0-9a-f]{8})","len":(\d+),"event":(.*)\}$')


def encode_line(event: Dict[str, Any]) -> bytes:
    body = json.dumps(event, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    crc = format(zlib.crc32(body) & 0xFFFFFFFF, "08x")
    return b'{"crc":"' + crc.encode() + b'","len":' + str(len(body)).encode() + b',"event":' + body + b"}\n"


def decode_line(line: str) -> Optional[Dict[str, Any]]:
    m = _LINE.match(line)
    if not m:
        return None
    body = m.group(3).encode("utf-8")
    if len(body) != int(m.group(2)) or format(zlib.crc32(body) & 0xFFFFFFFF, "08x") != m.group(1):
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def read_events(path: str) -> List[Dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except FileNotFoundError:
        return []
    return [e for e in (decode_line(line) for line in lines if line) if e is not None]


class MetricsWriter:
    """Appends with one write(2) a line, so an event is in the page cache as soon as `append`
    returns and survives the writer being killed; `sync` (epoch ends, checkpoints) fsyncs."""

    def __init__(self, path: str):
        self.path = path
        self.fd: Optional[int] = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        # A writer killed mid-line leaves a line without its newline; start on a fresh one.
        size = os.fstat(self.fd).st_size
        if size > 0:
            with open(path, "rb") as f:
                f.seek(size - 1)
                if f.read(1) != b"\n":
                    os.write(self.fd, b"\n")

    def append(self, event: Dict[str, Any]) -> None:
        if self.fd is None:
            raise RuntimeError(f"The metrics log {self.path} is closed.")
        os.write(self.fd, encode_line(event))

    def sync(self) -> None:
        if self.fd is not None:
            os.fsync(self.fd)

    def close(self) -> None:
        if self.fd is None:
            return
        try:
            os.fsync(self.fd)
        finally:
            os.close(self.fd)
            self.fd = None
