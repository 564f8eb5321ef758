"""Gradient flow (main/engine/inspect/gradients.ts): per conv/Linear layer, ‖∇w‖, ‖w‖ and the
update-to-weight ratio ‖Δw‖/‖w‖ of one step; vanishing gradients on the way to early layers, the
motivation of dense connectivity (paper §1), show as small early norms.

Two phases around the optimizer's update: `capture` (after backprop, before the step) reduces
gradients and weights to squared norms on the device and keeps a copy of the weights; `finish`
(after the step) adds ‖w_after − w_before‖² and copies all three numbers per layer to the host at
once. Δw includes momentum and weight decay: it is the update actually applied. A Linear layer's
bias joins its kernel, as a Dense layer's does on the TF.js side.
"""
from typing import Any, Dict, List, Tuple

import torch

from ..names import NameRow


def kernel_groups(trained: List[Tuple[NameRow, torch.nn.Parameter]]) -> List[Tuple[str, List[torch.nn.Parameter]]]:
    groups: Dict[str, List[Tuple[str, torch.nn.Parameter]]] = {}
    for row, p in trained:
        groups.setdefault(row.keras.rsplit("/", 1)[0], []).append((row.keras, p))
    return [(layer, [p for _, p in items]) for layer, items in groups.items() if any(n.endswith("/kernel") for n, _ in items)]


class PendingGradients:
    def __init__(self, step: int, groups: List[Tuple[str, List[torch.nn.Parameter]]]):
        self.step = step
        self.groups = [(layer, ps) for layer, ps in groups if all(p.grad is not None for p in ps)]
        with torch.no_grad():
            sq = lambda ts: torch.stack([t.detach().float().pow(2).sum() for t in ts]).sum()  # noqa: E731
            self.norms = torch.stack([v for _, ps in self.groups for v in (sq([p.grad for p in ps]), sq(ps))]) if self.groups else None
            self.before = [[p.detach().clone() for p in ps] for _, ps in self.groups]

    def finish(self) -> List[Dict[str, Any]]:
        if not self.groups:
            return []
        with torch.no_grad():
            delta = torch.stack([torch.stack([(p.detach().float() - b.float()).pow(2).sum() for p, b in zip(ps, before)]).sum()
                                 for (_, ps), before in zip(self.groups, self.before)])
            data = torch.cat([self.norms, delta]).cpu().tolist()
        self.before = []
        n = len(self.groups)
        out = []
        for i, (layer, _) in enumerate(self.groups):
            grad, weight, d = data[2 * i] ** 0.5, data[2 * i + 1] ** 0.5, data[2 * n + i] ** 0.5
            out.append({"layer": layer, "gradNorm": grad, "weightNorm": weight, "updateRatio": d / weight if weight > 0 else 0.0})
        return out
