"""Thumbnails of validation samples as the model saw them (resized, before normalization), for
the misclassified samples of an evaluation (main/engine/inspect/mistakes.ts): base64 PNGs at most
64 pixels on the longer side; small inputs (28×28) keep their size and the page scales them up."""
from typing import List, Optional

import numpy as np
import torch
import torch.nn.functional as F

from ..data import DatasetCache
from .png import png

THUMBNAIL_SIDE = 64


def thumbnails(cache: DatasetCache, indices: List[int], max_side: int = THUMBNAIL_SIDE) -> List[Optional[str]]:
    import base64
    split = cache.splits.get("val")
    if split is None or not indices:
        return [None] * len(indices)
    x = cache.read_bytes(split, indices)  # N×H×W×C uint8
    n, h, w, c = x.shape
    if max(h, w) > max_side:
        scale = max_side / max(h, w)
        t = torch.from_numpy(x).permute(0, 3, 1, 2).float()
        t = F.interpolate(t, size=(max(1, round(h * scale)), max(1, round(w * scale))), mode="area")
        x = t.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()
        _, h, w, _ = x.shape
    return [base64.b64encode(png(np.ascontiguousarray(img).tobytes(), w, h, c)).decode("ascii") if c in (1, 3) else None for img in x]
