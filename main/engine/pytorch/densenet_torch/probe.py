"""`python3 -m densenet_torch --probe`: what this interpreter can do, as one JSON object, for the
host's backend report (main/engine/pytorch/detect.ts). Kept cheap: importing torch is most of it."""
import json
import platform
import re
import sys
from typing import Any, Dict

from .torch_versions import MIN_TORCH, MIN_TORCH_GPU


def probe() -> Dict[str, Any]:
    out: Dict[str, Any] = {"python": sys.executable, "pythonVersion": platform.python_version()}
    try:
        import torch
    except Exception as err:  # noqa: BLE001 - ImportError, or a broken install raising anything
        out["error"] = f"torch is not importable ({type(err).__name__}: {err})"
        return out
    out["torch"] = getattr(torch, "__version__", "unknown")
    # The version first: nothing else of an older torch is touched (./device.py needs 1.13's API).
    m = re.match(r"(\d+)\.(\d+)", out["torch"])
    version = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    out["minTorch"] = ".".join(map(str, MIN_TORCH))
    out["minTorchGpu"] = ".".join(map(str, MIN_TORCH_GPU))
    out["supported"] = version >= MIN_TORCH
    if not out["supported"]:
        out["error"] = f"torch {out['torch']} is older than {out['minTorch']}, the oldest this engine runs on"
        return out
    from . import device as dev
    try:
        import torchvision
        out["torchvision"] = torchvision.__version__
    except Exception as err:  # noqa: BLE001
        out["error"] = f"torchvision is not importable ({type(err).__name__}: {err})"
        return out
    out["cuda"] = torch.version.cuda
    out["rocm"] = getattr(torch.version, "hip", None)
    gpus = []
    try:
        if torch.cuda.is_available():
            for i in range(torch.cuda.device_count()):
                p = torch.cuda.get_device_properties(i)
                gpus.append({"kind": "cuda", "index": i, "name": p.name, "memoryBytes": int(p.total_memory)})
    except Exception as err:  # noqa: BLE001 - a driver mismatch reports here
        out["cudaError"] = str(err)
    if dev.mps_available():
        gpus.append({"kind": "mps", "index": 0, "name": f"Apple GPU (MPS, {platform.machine()})", "memoryBytes": dev._mps_memory()})
    out["gpus"] = gpus
    out["gpuUsable"] = bool(gpus) and dev.torch_version() >= MIN_TORCH_GPU
    out["gpuSkipped"] = dev.gpu_skip_reason()
    out["cpu"] = dev.cpu_name()
    out["cpus"] = dev.available_cpus()
    out["memoryBytes"] = dev._total_memory()
    return out


def main() -> int:
    sys.stdout.write(json.dumps(probe()) + "\n")
    return 0
