"""The PyTorch engine's record of what trained a run: package versions, the host, and the backend
report as one log line (config.json keeps the report itself: ./device.py DeviceChoice.report)."""
import os
import platform
import socket
import sys
from typing import Any, Dict

import torch

from . import ENGINE_VERSION


def versions() -> Dict[str, str]:
    import torchvision
    return {"python": platform.python_version(), "torch": torch.__version__, "torchvision": torchvision.__version__,
            "densenet-torch-engine": ENGINE_VERSION}


def host_info() -> Dict[str, Any]:
    return {"hostname": socket.gethostname(), "platform": {"darwin": "darwin", "win32": "win32"}.get(sys.platform, "linux"),
            "arch": {"x86_64": "x64", "AMD64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine()),
            "cpus": os.cpu_count() or 1}


def format_report(r: Dict[str, Any]) -> str:
    mem = f", {r['memoryBytes'] / 2 ** 30:.1f} GiB" if r.get("memoryBytes") else ""
    extra = "".join(f", {k} {r[k]}" for k in ("cuda", "rocm", "cudnn") if r.get(k))
    lines = [f"backend: pytorch (torch {r['version']}, {r['kind']}) on {r['device']}{mem}{extra}, {r['threads']} CPU thread"
             f"{'' if r['threads'] == 1 else 's'}, {r['precision']}{', channels_last' if r['channelsLast'] else ''}; python {r['python']}"]
    if r.get("distributed"):
        d = r["distributed"]
        lines.append(f"  DistributedDataParallel: {d['worldSize']} processes over {d['backend']}{', SyncBatchNorm' if d['syncBatchNorm'] else ''}")
    lines += [f"  skipped {s['backend']}: {s['reason']}" for s in r.get("skipped", [])]
    return "\n".join(lines)
