"""The run folder's small JSON files (docs/run-format.md): config.json is read (the host writes it
when it prepares a run), status.json, summary.json and trainer.lock are written here. Every file a
user could have copied or edited is checked when read."""
import json
import os
import socket
from typing import Any, Dict, Optional

from .atomic import remove_stale_temp_files, write_json_atomic
from .checkpoint import CHECKPOINT_DIR, now_iso
from .errors import UserError

CONFIG_FILE = "config.json"
STATUS_FILE = "status.json"
SUMMARY_FILE = "summary.json"
LOCK_FILE = "trainer.lock"
IMPORT_FILE = "import.json"
#: The config.json format this engine reads (RunConfigFileSchema's `format`).
RUN_FORMAT = 1
#: Engines whose run folders this one can continue: the shared format makes a TF.js run resumable here.
KNOWN_ENGINES = ("tfjs", "pytorch")


def read_json(path: str, what: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        raise UserError(f"{what} {path} does not exist.") from None
    except ValueError:
        raise UserError(f"{what} {path} is not valid JSON.") from None


def read_config(run_dir: str) -> Dict[str, Any]:
    path = os.path.join(run_dir, CONFIG_FILE)
    config = read_json(path, "Run config")
    if not isinstance(config, dict):
        raise UserError(f"Run config {path} is not a JSON object.")
    fmt = config.get("format")
    if fmt != RUN_FORMAT:
        newer = isinstance(fmt, int) and fmt > RUN_FORMAT
        raise UserError(f"Run {os.path.basename(run_dir)} has run format {fmt!r}; this PyTorch engine reads format {RUN_FORMAT}"
                        + (". It was written by a newer workbench: update this one to train it." if newer else "."))
    engine = config.get("engine", "tfjs")
    if engine not in KNOWN_ENGINES:
        raise UserError(f"Run {os.path.basename(run_dir)} was made by engine {engine!r}; this PyTorch engine continues runs of "
                        f"{' or '.join(KNOWN_ENGINES)} only.")
    for key in ("id", "model", "settings", "dataset", "normalization", "seed"):
        if key not in config:
            raise UserError(f"Run config {path} is malformed: it has no {key}.")
    return config


def read_status(run_dir: str) -> Optional[Dict[str, Any]]:
    try:
        value = read_json(os.path.join(run_dir, STATUS_FILE), "Run status")
    except UserError:
        return None
    return value if isinstance(value, dict) else None


def write_status(run_dir: str, status: Dict[str, Any]) -> None:
    write_json_atomic(os.path.join(run_dir, STATUS_FILE), {**status, "hostname": socket.gethostname(), "updated": now_iso()})


def write_summary(run_dir: str, summary: Dict[str, Any]) -> None:
    write_json_atomic(os.path.join(run_dir, SUMMARY_FILE), summary)


def read_import_record(run_dir: str) -> Optional[Dict[str, Any]]:
    """import.json of a run made by `import`; None when absent or unreadable (train everything)."""
    try:
        with open(os.path.join(run_dir, IMPORT_FILE), encoding="utf-8") as f:
            record = json.load(f)
        return record if isinstance(record, dict) and record.get("format") == 1 else None
    except (OSError, ValueError):
        return None


def process_alive(pid: int) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True
    except OSError:
        return False
    try:  # a zombie answers signal 0 but is dead (main/engine/runs' isProcessAlive)
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
        return stat[stat.rindex(")") + 2] not in "ZX"
    except (OSError, ValueError, IndexError):
        return True


def acquire_lock(run_dir: str, pid: Optional[int] = None) -> None:
    """Takes trainer.lock for this process; a stale lock of a dead process is taken over."""
    pid = pid or os.getpid()
    path = os.path.join(run_dir, LOCK_FILE)
    body = json.dumps({"pid": pid, "hostname": socket.gethostname()}).encode()
    for _ in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            owner: Dict[str, Any] = {}
            try:
                with open(path, encoding="utf-8") as f:
                    owner = json.load(f)
            except (OSError, ValueError):
                pass  # a torn lock file is stale by definition
            if owner.get("pid") not in (None, pid) and owner.get("hostname") == socket.gethostname() and process_alive(owner["pid"]):
                raise UserError(f"Run {os.path.basename(run_dir)} is already being trained by process {owner['pid']}.") from None
            try:
                os.unlink(path)
            except OSError:
                pass
            continue
        try:
            os.write(fd, body)
        finally:
            os.close(fd)
        remove_stale_temp_files(run_dir)
        remove_stale_temp_files(os.path.join(run_dir, CHECKPOINT_DIR))
        return
    raise UserError(f"Could not take the lock of run {os.path.basename(run_dir)}: another process keeps taking it.")


def release_lock(run_dir: str, pid: Optional[int] = None) -> None:
    pid = pid or os.getpid()
    path = os.path.join(run_dir, LOCK_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            if json.load(f).get("pid") == pid:
                os.unlink(path)
    except (OSError, ValueError, AttributeError):
        pass
