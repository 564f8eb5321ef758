"""Feeding an epoch plan to the device: in the training process on CPU runs (extra worker
processes would only compete with the compute threads for the same cores), through
torch.utils.data.DataLoader workers with pinned memory on GPU runs, so decoding, augmentation
and normalization overlap the GPU's work. Either way a batch is a pure function of (epoch seed,
batch index), so the workers, their number and their timing never change what a step sees."""
from typing import Iterator, Optional

import torch
from torch.utils.data import DataLoader, Dataset

from .data import Batch, EpochPlan


class _PlanBatches(Dataset):
    def __init__(self, plan: EpochPlan, start: int, share):
        self.plan, self.start, self.share = plan, start, share

    def __len__(self) -> int:
        return self.plan.count - self.start

    def __getitem__(self, i: int):
        b = self.plan.batch(self.start + i, self.share(len(self.plan.positions(self.start + i))) if self.share else None)
        return torch.from_numpy(b.x), torch.from_numpy(b.y), b.n, b.index


def iterate_batches(plan: EpochPlan, start: int = 0, workers: int = 0, pin: bool = False, share=None) -> Iterator[Batch]:
    """Batches start..count-1 of `plan`; `share(n)` is a DDP rank's slice of a global batch of n."""
    if workers <= 0:
        for b in range(start, plan.count):
            yield plan.batch(b, share(len(plan.positions(b))) if share else None)
        return
    loader: Optional[DataLoader] = DataLoader(_PlanBatches(plan, start, share), batch_size=None, shuffle=False,
                                              num_workers=workers, pin_memory=pin, prefetch_factor=2)
    for x, y, n, index in loader:
        yield Batch(x, y, int(n), int(index))
