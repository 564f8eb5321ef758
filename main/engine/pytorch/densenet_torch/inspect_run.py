"""`inspectRun`: inspect a run that is not training, from one of its checkpoints (the TF.js
engine's main/trainer/inspect-run.ts): the result event, then `inspectDone`. The run is opened
read-only; evaluation and ablation results are also appended to its metrics.jsonl, each naming the
checkpoint it came from, so the run reopens with them. Needs the run's dataset cache (PyTorch runs
have one); the TF.js engine inspects any run from its dataset spec."""
import os
import time
from typing import Any, Callable, Dict

import torch

from . import device as dev
from .checkpoint import load_checkpoint
from .data import DatasetCache, TrainData
from .errors import error_data
from .inspection.inspector import Inspector
from .inspection.ondemand import OnDemand
from .inspection.thumbnails import thumbnails
from .metrics_log import METRICS_FILE, MetricsWriter
from .model import DenseNet
from .run_folder import read_config
from .weights import load_weights, trained_parameters

RECORDED = ("evaluation", "ablation")


class InspectRunWorker:
    def __init__(self, emit: Callable[[Dict[str, Any]], None], now: Callable[[], float] = lambda: time.time() * 1000):
        self.emit, self.now = emit, now
        self.ondemand: Any = None
        self.current = None

    def cancel(self, request_id: str) -> bool:
        return self.current == request_id and self.ondemand is not None and self.ondemand.cancel(request_id)

    def run(self, c: Dict[str, Any]) -> None:
        run_dir, what, request_id = os.path.abspath(c["runDir"]), c["what"], c["requestId"]
        run_id = os.path.basename(run_dir)
        started = self.now()
        self.current = request_id
        try:
            self.emit({"type": "inspectProgress", "runId": run_id, "requestId": request_id, "what": what, "done": 0, "total": 0,
                       "message": f"Loading checkpoint {c['checkpoint']} of run {run_id}…", "time": self.now()})
            config = read_config(run_dir)
            settings = config["settings"]
            choice = dev.choose_device(settings.get("device", "auto"), "fp32", False)
            ckpt = load_checkpoint(run_dir, c["checkpoint"])
            model = DenseNet(config["model"], init=False)
            load_weights(model, config["model"], ckpt["weights"])
            model = model.to(choice.device)
            cache = DatasetCache(run_dir)
            data = TrainData(cache, settings, config.get("normalization"))

            def to_input(x):
                return (x if torch.is_tensor(x) else torch.from_numpy(x)).to(choice.device).permute(0, 3, 1, 2).contiguous()

            def emit(event: Dict[str, Any]) -> None:
                # Recorded first: whoever reacts to the event finds it in the run.
                if event.get("type") in RECORDED:
                    writer = MetricsWriter(os.path.join(run_dir, METRICS_FILE))
                    try:
                        writer.append(event)
                    finally:
                        writer.close()
                self.emit(event)

            m = ckpt["manifest"]
            inspector = Inspector(config["id"], model, config["model"], cache.classes, data.val_plan, to_input, lambda: dev.autocast(choice),
                                  emit, self.now, trained_parameters(model, config["model"]), checkpoint=m["name"],
                                  thumbnails=lambda idx: thumbnails(cache, idx))
            inspector.position = {"step": m["step"], "epoch": m["epoch"]}
            self.ondemand = OnDemand(config["id"], emit, self.now)
            self.ondemand.run(inspector, what, c.get("sample", 0), request_id)
        except Exception as err:  # noqa: BLE001 - the request ends with inspectDone either way
            data = error_data(err, with_stack=False)
            self.emit({"type": "inspectDone", "runId": run_id, "requestId": request_id, "what": what, "ok": False,
                       "error": {"name": data["name"], "message": data["message"], "user": data.get("user", True)},
                       "seconds": (self.now() - started) / 1000, "time": self.now()})
        finally:
            self.ondemand = None
            self.current = None
