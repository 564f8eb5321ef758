"""Where and how this engine computes: the device (CUDA, ROCm through torch's CUDA API, Apple MPS
or CPU), mixed precision, channels_last and CPU threads, plus the report every run records.

Written against the current APIs (torch.autocast, torch.cuda.amp.GradScaler / torch.amp.GradScaler,
torch.backends.mps) with guarded fallbacks, so the same code runs on Debian's torch 1.13 (CPU) and a
current CUDA 12 or MPS build. The rule for GPUs: torch ≥ 2.0 (what CUDA 12 and a usable MPS need);
older builds (1.13 is the oldest this engine supports) train on the CPU only, and only on request.
"""
import os
import platform
import re
import sys
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, ContextManager, Dict, List, Optional, Tuple

import torch

from .errors import UserError

from .torch_versions import MIN_TORCH, MIN_TORCH_GPU  # noqa: E402 - the one place the rule's numbers live


def torch_version() -> Tuple[int, int]:
    m = re.match(r"(\d+)\.(\d+)", getattr(torch, "__version__", ""))
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    try:
        return bool(mps and mps.is_available())
    except Exception:  # noqa: BLE001 - an old or odd build: no MPS
        return False


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def gpu_skip_reason() -> Optional[str]:
    """Why no GPU is used by `auto`, or None when one is usable."""
    if torch_version() < MIN_TORCH_GPU:
        has_gpu = torch.cuda.is_available() or mps_available()
        return f"torch {torch.__version__} is older than 2.0, which GPU training needs" + ("" if has_gpu else "; no GPU either")
    if torch.cuda.is_available() or mps_available():
        return None
    built = "CUDA " + torch.version.cuda if torch.version.cuda else ("ROCm " + torch.version.hip if getattr(torch.version, "hip", None) else "no CUDA")
    return f"no GPU found (torch {torch.__version__} built with {built}; MPS not available)"


@dataclass
class DeviceChoice:
    device: torch.device
    kind: str  # cuda | mps | cpu
    name: str
    memory_bytes: Optional[int]
    threads: int
    precision: str  # fp32 | bf16 | fp16
    channels_last: bool
    notes: List[str] = field(default_factory=list)

    def report(self) -> Dict[str, Any]:
        """The backend report stored in config.json's `backend` and sent in a `log` line."""
        r: Dict[str, Any] = {
            "name": "pytorch", "flavour": f"torch-{self.kind}", "version": torch.__version__, "device": self.name,
            "kind": self.kind, "threads": self.threads, "precision": self.precision, "channelsLast": self.channels_last,
            "python": sys.executable, "pythonVersion": platform.python_version(),
        }
        if self.memory_bytes is not None:
            r["memoryBytes"] = self.memory_bytes
        if self.kind == "cuda":
            r["cuda"] = torch.version.cuda or None
            if getattr(torch.version, "hip", None):
                r["rocm"] = torch.version.hip
            cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
            if cudnn:
                r["cudnn"] = cudnn
        if self.kind == "mps":
            r["macos"] = platform.mac_ver()[0] or None
        r["skipped"] = [{"backend": "gpu", "reason": n} for n in self.notes]
        return r


def choose_device(requested: str = "auto", precision: str = "fp32", channels_last: bool = False,
                  threads: Optional[int] = None) -> DeviceChoice:
    """The device for a run. A GPU asked for by name that cannot be used is the user's to fix."""
    if requested not in ("auto", "cuda", "mps", "cpu"):
        raise UserError(f"Device must be one of auto, cuda, mps, cpu; got {requested!r}.")
    notes: List[str] = []
    kind = requested
    if requested in ("auto", "cuda", "mps"):
        reason = gpu_skip_reason()
        if requested == "auto":
            kind = "cpu" if reason else ("cuda" if torch.cuda.is_available() else "mps")
            if reason:
                notes.append(f"{reason}: training on the CPU")
        elif reason and (torch_version() < MIN_TORCH_GPU or not _has(requested)):
            raise UserError(f"--device {requested} cannot be used: {reason}. Use --device cpu, or a torch ≥ 2.0 build for your GPU.")
        elif not _has(requested):
            raise UserError(f"--device {requested} cannot be used: this torch build has no {requested.upper()} device. "
                            "Use --device auto or cpu.")
    if kind == "cpu":
        n = threads or available_cpus()
        torch.set_num_threads(n)
        device, name, memory = torch.device("cpu"), cpu_name(), _total_memory()
    elif kind == "cuda":
        index = int(os.environ.get("LOCAL_RANK", "0")) % max(1, torch.cuda.device_count())
        torch.cuda.set_device(index)
        device = torch.device("cuda", index)
        props = torch.cuda.get_device_properties(index)
        name, memory, n = props.name, int(props.total_memory), threads or available_cpus()
        torch.backends.cudnn.benchmark = True
    else:
        device, name, memory, n = torch.device("mps"), f"Apple GPU (MPS, {platform.machine()})", _mps_memory(), threads or available_cpus()
    if precision not in ("fp32", "bf16", "fp16"):
        raise UserError(f"Precision must be fp32, bf16 or fp16; got {precision!r}.")
    if precision == "fp16" and kind == "cpu":
        raise UserError("Precision fp16 needs a GPU (CPU autocast supports bf16 only); use --precision bf16 or fp32.")
    if precision == "bf16" and kind == "cuda" and not torch.cuda.is_bf16_supported():
        raise UserError(f"Precision bf16 is not supported by {name}; use --precision fp16 or fp32.")
    return DeviceChoice(device, kind, name, memory, n, precision, channels_last, notes)


def _has(kind: str) -> bool:
    return torch.cuda.is_available() if kind == "cuda" else mps_available()


def _total_memory() -> Optional[int]:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def _mps_memory() -> Optional[int]:
    # Unified memory: MPS may use what the system recommends (torch ≥ 2.3), else the RAM size.
    rec = getattr(getattr(torch, "mps", None), "recommended_max_memory", None)
    try:
        return int(rec()) if rec else _total_memory()
    except Exception:  # noqa: BLE001
        return _total_memory()


def autocast(choice: DeviceChoice) -> ContextManager:
    """The forward pass's mixed-precision context (a no-op for fp32)."""
    if choice.precision == "fp32":
        return nullcontext()
    dtype = torch.bfloat16 if choice.precision == "bf16" else torch.float16
    try:
        return torch.autocast(device_type=choice.kind, dtype=dtype)
    except (RuntimeError, ValueError) as err:  # e.g. MPS autocast before torch 2.5
        raise UserError(f"Mixed precision {choice.precision} is not available on {choice.kind} with torch {torch.__version__} ({err}); "
                        "use --precision fp32.") from None


def grad_scaler(choice: DeviceChoice) -> Optional[Any]:
    """A gradient scaler for fp16 (bf16 has float32's range and needs none)."""
    if choice.precision != "fp16":
        return None
    amp = getattr(torch, "amp", None)
    if amp is not None and hasattr(amp, "GradScaler"):
        try:
            return amp.GradScaler(choice.kind)  # torch ≥ 2.3: one class for every device
        except (TypeError, RuntimeError):
            pass
    return torch.cuda.amp.GradScaler()


def memory_format(choice: DeviceChoice) -> torch.memory_format:
    return torch.channels_last if choice.channels_last else torch.contiguous_format


_OOM = re.compile(r"out of memory|MPS backend out of memory|CUBLAS_STATUS_ALLOC_FAILED", re.I)


def is_out_of_memory(err: BaseException) -> bool:
    oom_type = getattr(torch.cuda, "OutOfMemoryError", None)
    if oom_type is not None and isinstance(err, oom_type):
        return True
    return isinstance(err, (RuntimeError, MemoryError)) and bool(_OOM.search(str(err))) or isinstance(err, SimulatedOutOfMemory)


class SimulatedOutOfMemory(RuntimeError):
    """Raised by the fault-injection hook (WORKBENCH_TORCH_FAKE_OOM_ABOVE=N: any batch larger than N
    runs out of memory), so the out-of-memory path is tested on machines without a GPU."""


def check_injected_oom(batch: int) -> None:
    limit = os.environ.get("WORKBENCH_TORCH_FAKE_OOM_ABOVE")
    if limit and batch > int(limit):
        raise SimulatedOutOfMemory(f"out of memory (simulated: batches above {limit} samples do not fit)")


def free_memory(choice: DeviceChoice) -> None:
    if choice.kind == "cuda":
        torch.cuda.empty_cache()
    elif choice.kind == "mps":
        empty = getattr(getattr(torch, "mps", None), "empty_cache", None)
        if empty:
            empty()
