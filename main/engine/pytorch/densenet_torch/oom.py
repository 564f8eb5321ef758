"""Out of device memory: find the largest batch that fits and say so.

A step that runs out of memory ends the run (marked failed; its last checkpoint is kept, nothing
newer is written), with a message naming the batch size that failed and the largest one that fits,
found by trying forward and backward passes of synthetic batches (a bisection: about log2(batch)
tries). The model's batch-norm statistics and gradients are put back afterwards; the weights are
not touched by the tries, and the run's checkpoint on disk is what a resume continues from anyway.
"""
from typing import Any, Mapping

import torch
import torch.nn as nn

from . import device as dev


def _fits(model: nn.Module, choice: dev.DeviceChoice, config: Mapping[str, Any], batch: int) -> bool:
    h, w, c = config["inputShape"]
    try:
        dev.check_injected_oom(batch)
        x = torch.randn(batch, c, h, w, device=choice.device).contiguous(memory_format=dev.memory_format(choice))
        with dev.autocast(choice):
            out = model(x)
        out.float().sum().backward()
        return True
    except Exception as err:  # noqa: BLE001
        if dev.is_out_of_memory(err):
            return False
        raise
    finally:
        model.zero_grad(set_to_none=True)
        dev.free_memory(choice)


def largest_batch_that_fits(model: nn.Module, choice: dev.DeviceChoice, config: Mapping[str, Any], failed: int) -> int:
    """The largest batch below `failed` whose training pass fits (0 when not even 1 does)."""
    buffers = {k: v.detach().clone() for k, v in model.state_dict().items() if "running" in k or "num_batches" in k}
    was = model.training
    model.train()
    lo, hi = 0, failed  # lo fits (0 trivially), hi does not
    try:
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _fits(model, choice, config, mid):
                lo = mid
            else:
                hi = mid
    finally:
        model.load_state_dict({**model.state_dict(), **buffers})
        model.train(was)
    return lo


def oom_message(choice: dev.DeviceChoice, batch: int, fits: int, world: int) -> str:
    where = {"cuda": f"The GPU ({choice.name})", "mps": "The Apple GPU (MPS)"}.get(choice.kind, "The CPU")
    per = f" per process ({batch * world} over {world} processes)" if world > 1 else ""
    if fits == 0:
        advice = "not even a batch of 1 fits: choose a smaller variant or input size"
    else:
        total = fits * world
        advice = f"the largest batch that fits is {total}{' (' + str(fits) + ' per process)' if world > 1 else ''}: train with --batch {total} or less"
    return (f"{where} ran out of memory at batch size {batch}{per}; {advice}. The run is marked failed and keeps its last checkpoint.")
