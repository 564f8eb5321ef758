"""What a training session starts from: the run's model with its weights (fresh and seeded, or its
latest good checkpoint's), frozen features for an import that asks for them, SyncBatchNorm under
DDP, the optimizer with its saved state, the DistributedDataParallel wrapper, and how batches reach
the device."""
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn

from . import device as dev
from .checkpoint import load_checkpoint
from .distributed import Dist, convert_sync_batchnorm
from .errors import UserError
from .model import DenseNet, freeze_features
from .names import NameRow
from .optim import build_optimizer, set_slots
from .rng import SeedPurpose, stream_seed
from .run_folder import read_import_record
from .weights import load_weights, trained_parameters

Log = Callable[[str, str], None]


@dataclass
class Training:
    raw: nn.Module  # the model itself (inspection, checkpoints)
    model: nn.Module  # what trains: `raw`, or its DistributedDataParallel wrapper
    optimizer: torch.optim.Optimizer
    trained: List[Tuple[NameRow, nn.Parameter]]
    #: Where the loop resumes (the checkpoint's step, epoch, data RNG...), None for step 0.
    resume: Optional[Dict[str, Any]]


def build_training(run_dir: str, config: Dict[str, Any], settings: Dict[str, Any], choice: dev.DeviceChoice, dist: Dist,
                   fresh: bool, log: Log) -> Training:
    model_config = config["model"]
    # Weight initialisation is a function of the run seed, so a run restarted from step 0 is the same run.
    torch.manual_seed(stream_seed(settings["seed"], SeedPurpose.INIT))
    raw: nn.Module = DenseNet(model_config)
    record = read_import_record(run_dir)
    if record and record.get("freezeFeatures"):
        freeze_features(raw)  # type: ignore[arg-type]
        log("info", "Feature layers are frozen (import --freeze-features): only the classifier trains.")
    resume, slots = (None, {}) if fresh else _resume_point(run_dir, raw, model_config, log)
    if settings.get("syncBatchNorm") and not dist.enabled:
        log("info", "SyncBatchNorm is on but the run trains in one process, where batch norm has nothing to synchronize.")
    if settings.get("syncBatchNorm") and dist.enabled:
        raw = convert_sync_batchnorm(raw, dist.world, choice.kind, dist.group)
    raw = raw.to(choice.device, memory_format=dev.memory_format(choice))
    trained = trained_parameters(raw, model_config)
    optimizer = build_optimizer(settings, [p for _, p in trained], foreach=choice.kind != "cpu")
    if resume:
        if resume["optimizer"] != settings["optimizer"]:
            raise UserError(f"The checkpoint's optimizer is {resume['optimizer']}, but the run trains with {settings['optimizer']}.")
        set_slots(optimizer, settings["optimizer"], resume["iterations"], trained, slots)
    model: nn.Module = raw
    if dist.enabled:
        from torch.nn.parallel import DistributedDataParallel
        # Gradients as views into DDP's buckets: no copy into them, and no layout mismatch to warn about.
        model = DistributedDataParallel(raw, device_ids=[choice.device.index] if choice.kind == "cuda" else None,
                                        process_group=dist.group, gradient_as_bucket_view=True)
    raw.train()
    return Training(raw, model, optimizer, trained, resume)


def _resume_point(run_dir: str, raw: nn.Module, model_config: Dict[str, Any], log: Log) -> Tuple[Optional[Dict[str, Any]], Dict[str, torch.Tensor]]:
    """The latest good checkpoint's weights into `raw`, and where the loop goes on from; none yet:
    the run starts over from step 0 with the same seed."""
    try:
        ckpt = load_checkpoint(run_dir, "latest")
    except UserError as err:
        if "newer workbench" in str(err):
            raise
        log("warn", f"{err} The run starts again from step 0 with the same seed.")
        return None, {}
    load_weights(raw, model_config, ckpt["weights"])
    m = ckpt["manifest"]
    log("info", f"Resuming from checkpoint {m['name']}: epoch {m['epoch'] + 1}, step {m['step']}, learning rate and optimizer state as saved.")
    return ({"step": m["step"], "epoch": m["epoch"], "epochStep": m["epochStep"], "rng": m["rng"], "earlyStopping": m["earlyStopping"],
             "best": m["best"], "iterations": m["optimizer"]["iterations"], "optimizer": m["optimizer"]["name"]}, ckpt["slots"])


def loader_workers(choice: dev.DeviceChoice, options: Dict[str, Any]) -> int:
    """DataLoader workers: none on the CPU (they would compete with the compute threads), up to 4 on a GPU."""
    if "workers" in options:
        return int(options["workers"])
    return min(4, max(1, dev.available_cpus() - 1)) if choice.kind != "cpu" else 0


def input_converter(choice: dev.DeviceChoice) -> Callable[[Any], torch.Tensor]:
    fmt = dev.memory_format(choice)

    def convert(x: Any) -> torch.Tensor:
        t = x if torch.is_tensor(x) else torch.from_numpy(x)
        # The cache is NHWC, as TF.js computes; torch's NCHW view of it is what channels_last stores.
        t = t.to(choice.device, non_blocking=True).permute(0, 3, 1, 2)
        return t.contiguous(memory_format=fmt)
    return convert
