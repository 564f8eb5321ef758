"""Forward hooks on the torch modules behind the graph's nodes (./graph.py). Hooks are attached
only for one probe forward pass, in inference mode and without gradients, on the fixed probe
batch, then removed: training steps never run them, so inspection costs nothing between probes,
and a probe never updates batch-norm statistics nor draws dropout masks."""
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List

import torch
import torch.nn as nn

from .graph import Node


@contextmanager
def inference(model: nn.Module) -> Iterator[None]:
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was)


def probe(model: nn.Module, nodes: List[Node], x: torch.Tensor, reduce: Callable[[torch.Tensor], torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Runs `model` on `x` and returns reduce(output) per node id; `reduce` runs inside the hook,
    before any later in-place op can touch the tensor."""
    modules = dict(model.named_modules())
    found: Dict[str, torch.Tensor] = {}
    handles = []
    try:
        for node in nodes:
            mod = modules[node.module]
            if node.kind == "classifier":
                handles.append(mod.register_forward_pre_hook(lambda _m, inp, key=node.id: found.__setitem__(key, reduce(inp[0]))))
            else:
                handles.append(mod.register_forward_hook(lambda _m, _i, out, key=node.id: found.__setitem__(key, reduce(out))))
        with inference(model):
            model(x)
    finally:
        for h in handles:
            h.remove()
    return found
