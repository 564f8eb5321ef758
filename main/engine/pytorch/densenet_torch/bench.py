"""`python3 -m densenet_torch --bench`: the engine's training throughput on synthetic data, with and
without its inspection hooks, for `densenet-workbench bench --backend pytorch` and
`npm run bench:compare` (which sets it beside plain PyTorch, test/bench/pytorch_reference.py).

What runs is the engine itself: a dataset cache of random pixels in a temporary run folder, its
memory-mapped batches with pad-crop, flip and normalization, the model, the optimizer and the
training loop, timed by the loop's own step events (data, step and hooks included). Three passes of
`warmup + steps` steps each: hooks off; gradient flow captured at every step; layer stats probed
after every step. Their differences are the cost of one capture and one probe, which the reported
"hooks on" throughput charges at the run's cadences (by default stats every 100 steps, gradients
every 50), as training pays them. Contributions (once an epoch) cost one pass over the kernels.
"""
import json
import os
import re
import shutil
import tempfile
import time
from typing import Any, Dict, List

import numpy as np
import torch

from . import device as dev
from .control import Control
from .data import CACHE_DIR, DatasetCache, TrainData
from .distributed import Dist
from .inspection.inspector import Inspector
from .loop import Loop
from .model import DenseNet, trainable_parameter_count
from .optim import build_optimizer
from .weights import trained_parameters

VAL = 32


def _vm_hwm() -> Any:
    try:
        with open("/proc/self/status") as f:
            m = re.search(r"^VmHWM:\s+(\d+)\s+kB", f.read(), re.M)
        return int(m.group(1)) * 1024 if m else None
    except OSError:
        return None


def _write_cache(folder: str, config: Dict[str, Any], samples: int) -> None:
    h, w, c = config["inputShape"]
    d = os.path.join(folder, CACHE_DIR)
    os.makedirs(d)
    rng = np.random.default_rng(0)
    rng.integers(0, 256, size=(samples + VAL) * h * w * c, dtype=np.uint8).tofile(os.path.join(d, "pixels.u8"))
    rng.integers(0, config["classes"], size=samples + VAL, dtype=np.int32).astype("<i4").tofile(os.path.join(d, "labels.i32"))
    with open(os.path.join(d, "index.json"), "w") as f:
        json.dump({"format": 1, "inputShape": [h, w, c], "classes": [str(i) for i in range(config["classes"])], "samples": samples + VAL,
                   "pixels": "pixels.u8", "labels": "labels.i32",
                   "splits": {"train": {"offset": 0, "count": samples}, "val": {"offset": samples, "count": VAL}, "test": None}}, f)


def run(config: Dict[str, Any], batch: int, steps: int, warmup: int, threads: int, device: str = "auto", precision: str = "fp32",
        channels_last: bool = False, stats_every: int = 100, gradients_every: int = 50) -> Dict[str, Any]:
    choice = dev.choose_device(device, precision, channels_last, threads)
    folder = tempfile.mkdtemp(prefix="densenet-bench-")
    try:
        per_pass = warmup + steps
        _write_cache(folder, config, batch * per_pass)
        c = config["inputShape"][2]
        settings = {"epochs": 1, "batchSize": batch, "optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True, "weightDecay": 1e-4,
                    "schedule": "constant", "milestones": [], "gamma": 0.1, "stepEpochs": 30, "warmupEpochs": 0, "labelSmoothing": 0,
                    "earlyStopping": None, "seed": 42, "augment": {"padCrop": True, "flip": True}, "checkpointEvery": 10 ** 9,
                    "keepCheckpoints": 1, "statsEvery": 0, "gradientsEvery": 0}
        cache = DatasetCache(folder)
        torch.manual_seed(0)
        model = DenseNet(config).to(choice.device, memory_format=dev.memory_format(choice))
        model.train()
        trained = trained_parameters(model, config)
        optimizer = build_optimizer(settings, [p for _, p in trained], foreach=choice.kind != "cpu")
        fmt = dev.memory_format(choice)
        to_input = lambda x: torch.from_numpy(x).to(choice.device).permute(0, 3, 1, 2).contiguous(memory_format=fmt)  # noqa: E731
        times: List[float] = []

        class Hooks:
            def __init__(self, inspector: Inspector):
                self.inspector = inspector

            def event(self, e: Dict[str, Any]) -> None:
                if e["type"] == "step":
                    times.append(batch / e["imagesPerSec"])

            def capture_gradients(self, step: int, epoch: int) -> None:
                self.inspector.capture_gradients(step, epoch)

            def after_step(self, step: int, epoch: int) -> None:
                self.inspector.after_step(step, epoch)

            def probe(self, step: int, epoch: int, end: bool) -> None:
                if not end:
                    self.inspector.on_probe(step, epoch, False)

            def checkpoint(self, state: Dict[str, Any]) -> None:
                pass

        def timed(stats: int, grads: int) -> float:
            """Mean step time of one pass, after its warm-up steps."""
            del times[:]
            s = {**settings, "statsEvery": stats, "gradientsEvery": grads}
            data = TrainData(cache, s, norm)
            data.val_plan = lambda batch_size=None: None  # type: ignore[method-assign] # no validation inside the timing
            inspector = Inspector("bench", model, config, cache.classes, probe_data.val_plan, to_input, lambda: dev.autocast(choice),
                                  lambda e: None, lambda: time.time() * 1000, trained)
            Loop("bench", model, data, s, Control(), optimizer, choice, Dist(), to_input, Hooks(inspector),
                 scaler=dev.grad_scaler(choice), workers=0).run()
            return sum(times[warmup:]) / max(1, len(times) - warmup)

        norm = {"mean": [0.5] * c, "std": [0.25] * c}
        probe_data = TrainData(cache, settings, norm)  # the probe batch: the first validation samples
        off = timed(0, 0)
        grads = timed(0, 1)
        stats = timed(1, 0)
        capture = max(0.0, grads - off)
        probe = max(0.0, stats - off)
        amortized = off + (capture / gradients_every if gradients_every else 0) + (probe / stats_every if stats_every else 0)

        model.eval()
        x = torch.randn(batch, c, *config["inputShape"][:2], device=choice.device).contiguous(memory_format=fmt)
        with torch.no_grad(), dev.autocast(choice):
            for _ in range(max(1, warmup)):
                model(x)
            t0 = time.perf_counter()
            for _ in range(steps):
                model(x).float().sum().item()
            fwd = (time.perf_counter() - t0) / steps
        import torchvision
        return {
            "engine": "pytorch-workbench", "version": torch.__version__, "torchvision": torchvision.__version__,
            "device": choice.name, "kind": choice.kind, "threads": choice.threads, "precision": precision, "channelsLast": channels_last,
            "variant": config.get("variant"), "batch": batch, "steps": steps, "warmup": warmup,
            "parameters": trainable_parameter_count(model),
            "trainImagesPerSec": batch / amortized, "trainStepMs": 1000 * amortized,
            "trainImagesPerSecHooksOff": batch / off, "statsProbeMs": 1000 * probe, "gradientCaptureMs": 1000 * capture,
            "statsEvery": stats_every, "gradientsEvery": gradients_every, "inspectionShare": (amortized - off) / off,
            "forwardImagesPerSec": batch / fwd, "vmHwmBytes": _vm_hwm(),
        }
    finally:
        shutil.rmtree(folder, ignore_errors=True)
