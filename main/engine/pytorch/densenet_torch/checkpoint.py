"""Checkpoints in the run folder's format (docs/run-format.md), readable by both engines:

  checkpoints/step-<step>.json                 the manifest: step, epoch, position in the epoch,
                                               optimizer name and iterations, data RNG state,
                                               early-stopping state, metrics, and every tensor's
                                               name, shape, group and absolute byte offset
  checkpoints/step-<step>-<nonce>.safetensors  the tensors, a valid safetensors file; Keras names
                                               and layouts (`conv1_conv/kernel` as HWIO), weights
                                               then optimizer slots (`<weight>/momentum`, `/m`, `/v`)

Commit protocol: write the data file atomically, then the manifest atomically; the manifest holds
the data file's sha256 and length, so a checkpoint exists only once its manifest is in place and
verifies. A crash at any point leaves the previous checkpoints as they were. Pruning (keep the last
`keep` plus the best by validation accuracy) runs only after the new manifest is durable.
"""
import datetime
import hashlib
import json
import os
import re
import secrets
from typing import Any, Dict, List, Optional, Tuple

import torch

from . import safetensors_io
from .atomic import write_atomic
from .errors import UserError

CHECKPOINT_DIR = "checkpoints"
MANIFEST_FORMAT = 1
_MANIFEST = re.compile(r"^step-\d{9}\.json$")


class NonFiniteWeightsError(Exception):
    """Raised instead of writing weights that hold NaN or ±Infinity: the run has diverged."""


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def manifest_name(step: int) -> str:
    return f"step-{step:09d}"


def checkpoint_dir(run_dir: str) -> str:
    return os.path.join(run_dir, CHECKPOINT_DIR)


def write_checkpoint(run_dir: str, meta: Dict[str, Any], weights: List[Tuple[str, torch.Tensor]],
                     slots: List[Tuple[str, torch.Tensor]], keep: int) -> Dict[str, Any]:
    """Writes one checkpoint. `meta` holds the manifest's step…earlyStopping fields; tensors are
    (Keras name, tensor in Keras layout)."""
    for group, items in (("weight", weights), ("optimizer slot", slots)):
        for name, t in items:
            if not bool(torch.isfinite(t).all()):
                raise NonFiniteWeightsError(f"Refusing to checkpoint: {group} {name} holds a non-finite value.")
    folder = checkpoint_dir(run_dir)
    os.makedirs(folder, exist_ok=True)
    name = manifest_name(meta["step"])
    data_name = f"{name}-{secrets.token_hex(4)}.safetensors"
    named = [(n, t) for n, t in weights] + [(n, t) for n, t in slots]
    data, starts = safetensors_io.encode(named, {"format": "densenet-workbench-checkpoint", "step": str(meta["step"])})
    tensors = []
    for (n, t), group in zip(named, ["weights"] * len(weights) + ["optimizer"] * len(slots)):
        tensors.append({"name": n, "shape": list(t.shape), "group": group, "offset": starts[n], "length": int(t.numel())})
    write_atomic(os.path.join(folder, data_name), data)
    manifest = {
        "format": MANIFEST_FORMAT, "name": name, "created": now_iso(), **meta,
        "data": {"file": data_name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "byteOrder": "little"},
        "tensors": tensors,
    }
    try:
        write_atomic(os.path.join(folder, f"{name}.json"), json.dumps(manifest, allow_nan=False).encode("utf-8"))
    except BaseException:
        _remove(os.path.join(folder, data_name))
        raise
    _prune(run_dir, keep, data_name)
    return manifest


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def list_checkpoints(run_dir: str) -> List[Dict[str, Any]]:
    """Manifests that parse, newest first; their data files are verified only when loaded."""
    folder = checkpoint_dir(run_dir)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    out = []
    for file in names:
        if not _MANIFEST.match(file):
            continue
        try:
            with open(os.path.join(folder, file), encoding="utf-8") as f:
                m = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(m, dict) and m.get("name") == file[:-5] and isinstance(m.get("step"), int) and isinstance(m.get("data"), dict):
            out.append(m)
    return sorted(out, key=lambda m: -m["step"])


def best_record(manifests: List[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The run's best epoch as the loop recorded it: every manifest carries the record as it stood
    when written, so the newest one speaks for the run (main/engine/runs/checkpoint.ts bestRecord)."""
    newest = manifests[0] if manifests else None
    best = (newest or {}).get("best")
    return best if isinstance(best, dict) and best.get("valAccuracy") is not None else None


def _prune(run_dir: str, keep: int, just_written: str) -> None:
    folder = checkpoint_dir(run_dir)
    manifests = list_checkpoints(run_dir)
    kept = {m["name"] for m in manifests[:keep]}
    best = best_record(manifests)
    if best:
        kept.add(manifest_name(best["step"]))
    # Manifests first: a manifest without its data would be a broken checkpoint, the reverse an orphan.
    for m in manifests:
        if m["name"] not in kept:
            _remove(os.path.join(folder, f"{m['name']}.json"))
    referenced = {m["data"]["file"] for m in manifests if m["name"] in kept} | {just_written}
    for file in os.listdir(folder):
        if (file.endswith(".bin") or file.endswith(".safetensors")) and file not in referenced:
            _remove(os.path.join(folder, file))


def _read_verified(run_dir: str, m: Dict[str, Any]) -> Dict[str, Any]:
    if m.get("format") != MANIFEST_FORMAT:
        raise UserError(f"Checkpoint {m.get('name')} has format {m.get('format')!r}; this engine reads format {MANIFEST_FORMAT}. "
                        "It was written by a newer workbench: update this one to continue the run.")
    file = m["data"]["file"]
    if os.path.basename(file) != file:
        raise UserError(f"Checkpoint {m['name']} names a data file outside its folder: {file}.")
    with open(os.path.join(checkpoint_dir(run_dir), file), "rb") as f:
        buf = f.read()
    if len(buf) != m["data"]["bytes"]:
        raise UserError(f"Checkpoint {m['name']} is damaged: {file} has {len(buf)} bytes, its manifest says {m['data']['bytes']}.")
    if hashlib.sha256(buf).hexdigest() != m["data"]["sha256"]:
        raise UserError(f"Checkpoint {m['name']} is damaged: the sha256 of {file} does not match its manifest.")
    weights: Dict[str, torch.Tensor] = {}
    slots: Dict[str, torch.Tensor] = {}
    # The manifest's absolute offsets work for both data files the workbench has written: the raw
    # float32 `.bin` of older TF.js runs and the safetensors files of both engines now.
    for t in m["tensors"]:
        count = 1
        for d in t["shape"]:
            count *= int(d)
        start, length = int(t["offset"]), int(t["length"])
        if count != length or start % 4 or start + 4 * length > len(buf):
            raise UserError(f"Checkpoint {m['name']} is damaged: tensor {t['name']} does not fit its data file.")
        arr = torch.frombuffer(bytearray(buf[start:start + 4 * length]), dtype=torch.float32) if length else torch.zeros(0)
        (weights if t["group"] == "weights" else slots)[t["name"]] = arr.reshape([int(d) for d in t["shape"]])
    return {"manifest": m, "weights": weights, "slots": slots}


def load_checkpoint(run_dir: str, which: str = "latest") -> Dict[str, Any]:
    """`latest` (falling back to older ones when the newest is damaged), `best`, or a name."""
    manifests = list_checkpoints(run_dir)
    if not manifests:
        raise UserError(f"Run {os.path.basename(run_dir)} has no checkpoint yet.")
    if which == "latest":
        order = manifests
    elif which == "best":
        best = best_record(manifests)
        named = [m for m in manifests if best and m["step"] == best["step"]]
        if best and not named:
            raise UserError(f"Run {os.path.basename(run_dir)} did not keep the checkpoint of its best epoch (step {best['step']}); it has "
                            f"{', '.join(m['name'] for m in manifests)}. Use latest or one of those names.")
        order = named or manifests
    else:
        order = [m for m in manifests if m["name"] == which]
        if not order:
            raise UserError(f"Run {os.path.basename(run_dir)} has no checkpoint \"{which}\"; it has "
                            f"{', '.join(m['name'] for m in manifests)}, or use latest or best.")
    problems = []
    for m in order:
        try:
            return _read_verified(run_dir, m)
        except UserError as err:
            if which == "latest" and "newer workbench" in str(err):
                raise
            problems.append(str(err))
        except (OSError, KeyError, TypeError, ValueError) as err:
            problems.append(f"Checkpoint {m.get('name')} cannot be read ({err}).")
    raise UserError(f"No loadable checkpoint in run {os.path.basename(run_dir)}: {' '.join(problems)}")
