"""DistributedDataParallel through torchrun, set up in one place (as torchvision's
references/classification/utils.py `init_distributed_mode`): the rank, world size and local rank
come from torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT); NCCL on
CUDA, gloo elsewhere. Only rank 0 writes the run folder and talks to the host.

Each step, rank 0 decides go/stop/snapshot (it holds the commands) and broadcasts the decision,
so every rank takes the same step or none; while paused it broadcasts "wait" about once a second,
so no collective waits long enough to time out. The global batch is kept: every rank draws the
same epoch plan and takes its contiguous share of each global batch (./data.py EpochPlan.batch), so
a DDP run sees exactly the samples and augmentations of the single-process run.
"""
import datetime
import os
from typing import List, Optional, Union

import torch
import torch.distributed as dist
import torch.nn as nn

from .errors import UserError
from .model import BatchNorm2d, BiasedVarianceMixin

ACTIONS = {"go": 0, "stop": 1, "snapshot": 2, "wait": 3}
_NAMES = {v: k for k, v in ACTIONS.items()}


class Dist:
    """The process group, or a stand-in for one process with the same methods.

    Under torchrun, `init` joins a gloo group at once (every device has gloo): it carries the run
    commands from rank 0, which alone reads the host's stdin, to the other ranks. `use_device`
    then picks the training collectives' group: NCCL on CUDA, the same gloo group elsewhere."""

    def __init__(self) -> None:
        self.rank, self.world, self.local_rank = 0, 1, 0
        self.enabled = False
        self.device = torch.device("cpu")
        self.group = None
        self.backend = "none"

    @property
    def main(self) -> bool:
        return self.rank == 0

    @staticmethod
    def under_torchrun() -> bool:
        return "RANK" in os.environ and int(os.environ.get("WORLD_SIZE", "1")) > 1

    def init(self) -> None:
        if self.enabled or not self.under_torchrun():
            return
        self.rank, self.world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        # Long enough for a host that waits between runs; a rank that dies is torchrun's to notice
        # (it ends the others at once), not a timeout's.
        dist.init_process_group(backend="gloo", timeout=datetime.timedelta(hours=24))
        self.enabled = True
        self.backend = "gloo"

    def use_device(self, device_kind: str) -> None:
        if not self.enabled:
            return
        if device_kind == "cuda":
            self.group = dist.new_group(backend="nccl")
            self.device = torch.device("cuda", torch.cuda.current_device())
            self.backend = "nccl"
        else:
            self.group, self.device, self.backend = None, torch.device("cpu"), "gloo"

    def broadcast_command(self, command: Optional[dict]) -> Optional[dict]:
        """Rank 0's run command (or None: no more runs) on every rank."""
        if not self.enabled:
            return command
        box = [command if self.main else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def share(self, positions: int) -> slice:
        """This rank's contiguous share of a global batch of `positions` samples."""
        base, extra = divmod(positions, self.world)
        start = self.rank * base + min(self.rank, extra)
        return slice(start, start + base + (1 if self.rank < extra else 0))

    def broadcast_action(self, action: Optional[str]) -> str:
        if not self.enabled:
            return action or "go"
        t = torch.tensor([ACTIONS[action] if self.main and action else 0], dtype=torch.int64, device=self.device)
        dist.broadcast(t, 0, group=self.group)
        return _NAMES[int(t.item())]

    def sum(self, values: Union[List[float], torch.Tensor]) -> List[float]:
        """Element-wise sums over the ranks (the values themselves for one process), on the host."""
        t = values if torch.is_tensor(values) else torch.tensor(values, dtype=torch.float64)
        if self.enabled:
            t = t.to(self.device)
            dist.all_reduce(t, group=self.group)
        return t.cpu().tolist()

    def sync_buffers(self, model: nn.Module) -> None:
        """Rank 0's batch-norm statistics everywhere (before evaluation, which every rank shares)."""
        if self.enabled:
            for b in model.buffers():
                dist.broadcast(b, 0, group=self.group)

    def close(self) -> None:
        if self.enabled and dist.is_initialized():
            dist.destroy_process_group()
            self.enabled = False


class SyncBatchNorm2d(BiasedVarianceMixin, nn.SyncBatchNorm):
    """SyncBatchNorm with the TF.js engine's biased moving variance (see ./model.py)."""


def convert_sync_batchnorm(module: nn.Module, world: int, device_kind: str, group=None) -> nn.Module:
    """Every BatchNorm2d becomes a SyncBatchNorm2d with the same state (torch's own converter
    would drop the biased-variance update)."""
    if device_kind != "cuda":
        raise UserError(f"SyncBatchNorm needs CUDA: torch {torch.__version__} synchronizes batch norm on GPUs only; "
                        "turn the setting off on this device.")
    out = module
    if isinstance(module, BatchNorm2d):
        out = SyncBatchNorm2d(module.num_features, module.eps, module.momentum, module.affine, module.track_running_stats, group)
        with torch.no_grad():
            out.weight.copy_(module.weight)
            out.bias.copy_(module.bias)
        out.running_mean, out.running_var, out.num_batches_tracked = module.running_mean, module.running_var, module.num_batches_tracked
        out._world_size = world
    for name, child in module.named_children():
        out.add_module(name, convert_sync_batchnorm(child, world, device_kind, group))
    return out


def set_parent_death_signal() -> None:
    """Linux: a torchrun worker dies with its agent (SIGKILLed agents otherwise leave workers
    training an orphaned run)."""
    try:
        import ctypes
        import signal
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
