"""Feature-map statistics of a probed tensor (main/engine/inspect/stats.ts): mean, population std,
mean |x|, min, max, the fraction a ReLU zeroes (x ≤ 0) and 32 equal bins over [min, max], the last
bin taking max. Computed on the device, packed, and copied to the host once for all layers."""
from typing import Any, Dict, List, Sequence

import torch

BINS = 32
SCALARS = 6


def stats_vector(x: torch.Tensor) -> torch.Tensor:
    flat = x.detach().reshape(-1).float()
    if flat.numel() == 0:
        raise ValueError(f"Cannot compute statistics of an empty tensor of shape {list(x.shape)}.")
    mean = flat.mean()
    std = flat.var(unbiased=False).sqrt()
    lo, hi = flat.min(), flat.max()
    width = torch.clamp(hi - lo, min=1e-30)
    bins = torch.floor((flat - lo) / width * BINS).clamp(0, BINS - 1).long()
    counts = torch.bincount(bins, minlength=BINS).float()
    head = torch.stack([mean, std, flat.abs().mean(), lo, hi, (flat <= 0).float().mean()])
    return torch.cat([head, counts])


def decode(layers: Sequence[str], data: Sequence[float]) -> List[Dict[str, Any]]:
    n = SCALARS + BINS
    out = []
    for i, layer in enumerate(layers):
        v = data[i * n:(i + 1) * n]
        out.append({
            "layer": layer, "mean": v[0], "std": v[1], "meanAbs": v[2], "min": v[3], "max": v[4], "zeroFraction": v[5],
            "histMin": v[3], "histMax": v[4], "histogram": [int(round(c)) for c in v[SCALARS:]],
        })
    return out
