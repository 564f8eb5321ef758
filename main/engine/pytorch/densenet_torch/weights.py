"""Model weights ↔ the run folder's Keras-named tensors (./names.py holds the table)."""
from typing import Dict, List, Tuple

import torch
import torch.nn as nn

from .errors import UserError
from .names import NameRow, from_keras, keras_shape, name_table, to_keras


def model_weights(model: nn.Module, config) -> List[Tuple[str, torch.Tensor]]:
    """Every weight and batch-norm statistic, Keras-named, in Keras layout, float32 on the CPU."""
    state = model.state_dict()
    return [(r.keras, to_keras(state[r.torch], r.layout)) for r in name_table(config)]


def trained_parameters(model: nn.Module, config) -> List[Tuple[NameRow, nn.Parameter]]:
    """The weights the optimizer updates, with their rows, in table order."""
    params = dict(model.named_parameters())
    return [(r, params[r.torch]) for r in name_table(config) if r.torch in params and params[r.torch].requires_grad]


def load_weights(model: nn.Module, config, weights: Dict[str, torch.Tensor]) -> None:
    """Loads Keras-named tensors; every weight must be present with its shape, and nothing else."""
    state = model.state_dict()
    rows = name_table(config)
    problems = []
    for r in rows:
        saved = weights.get(r.keras)
        want = keras_shape(list(state[r.torch].shape), r.layout)
        if saved is None:
            problems.append(f"{r.keras} is missing")
        elif list(saved.shape) != want:
            problems.append(f"{r.keras} has shape [{', '.join(map(str, saved.shape))}], the model needs [{', '.join(map(str, want))}]")
    known = {r.keras for r in rows}
    problems += [f"{name} is not in the model" for name in weights if name not in known]
    if problems:
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise UserError(f"The weights do not fit this model: {'; '.join(problems[:5])}{more}.")
    with torch.no_grad():
        for r in rows:
            state[r.torch].copy_(from_keras(weights[r.keras], r.layout))
