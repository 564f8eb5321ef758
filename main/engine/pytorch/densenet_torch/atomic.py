"""Atomic file writes, as main/engine/runs' writeFileAtomic: a reader sees the old file or the
complete new one, never a torn one. Write a temp file beside the target, fsync it, rename it over
the target, fsync the folder so the rename survives a power cut. On failure the temp file goes."""
import itertools
import json
import os
from typing import Any

_counter = itertools.count()


def fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # Windows cannot open a folder; NTFS journals renames anyway
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: str, data: bytes) -> None:
    folder, base = os.path.split(path)
    # The same temp-name pattern as the TS writer, so either engine's lock clears the other's leftovers.
    tmp = os.path.join(folder, f".{base}.{os.getpid()}.{next(_counter)}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fsync_dir(folder or ".")


def write_json_atomic(path: str, value: Any) -> None:
    write_atomic(path, (json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8"))


def remove_stale_temp_files(folder: str) -> None:
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if name.startswith(".") and name.endswith(".tmp"):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass
