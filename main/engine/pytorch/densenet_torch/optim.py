"""The run's optimizer: torch.optim's SGD (momentum, Nesterov, weight decay), Adam and AdamW, with
their state saved and restored under the workbench's slot names.

The update rules are the TF.js engine's (main/engine/train/optimizers.ts), which were written to
follow torch.optim with dampening 0, so this engine uses torch.optim itself:
  SGD:   g ← ∇ + λw;  b ← μb + g;  d ← nesterov ? g + μb : b;  w ← w − η·d
  Adam:  g ← ∇ + λw;  m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²;  w ← w − η·m̂ / (√v̂ + ε)
  AdamW: w ← w(1 − ηλ), then Adam with λ = 0 (Loshchilov & Hutter).
Weight decay applies to every trainable tensor (kernels, the classifier bias, BN γ and β), as the
paper's Torch code and PyTorch's default do. Slots are stored as `<weight>/momentum` (SGD) or
`<weight>/m`, `<weight>/v` (Adam, AdamW), in Keras layout, so either engine resumes the other's run.
"""
from typing import Any, Dict, List, Mapping, Tuple

import torch

from .errors import UserError
from .names import NameRow, from_keras, to_keras

SLOTS = {"sgd": ("momentum",), "adam": ("m", "v"), "adamw": ("m", "v")}
_TORCH_SLOT = {"momentum": "momentum_buffer", "m": "exp_avg", "v": "exp_avg_sq"}
BETAS = (0.9, 0.999)
EPSILON = 1e-8


def build_optimizer(settings: Mapping[str, Any], params: List[torch.nn.Parameter], foreach: bool) -> torch.optim.Optimizer:
    name = settings["optimizer"]
    wd = float(settings["weightDecay"])
    extra: Dict[str, Any] = {"foreach": True} if foreach else {}
    if name == "sgd":
        momentum = float(settings["momentum"])
        nesterov = bool(settings["nesterov"])
        if nesterov and momentum <= 0:
            raise UserError(f"Nesterov momentum needs a momentum > 0; got {momentum}.")
        return torch.optim.SGD(params, lr=float(settings["lr"]), momentum=momentum, nesterov=nesterov, weight_decay=wd, **extra)
    if name in ("adam", "adamw"):
        cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
        return cls(params, lr=float(settings["lr"]), betas=BETAS, eps=EPSILON, weight_decay=wd, **extra)
    raise UserError(f"Optimizer must be one of sgd, adam, adamw; got {name!r}.")


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def get_slots(optimizer: torch.optim.Optimizer, name: str, trained: List[Tuple[NameRow, torch.nn.Parameter]]) -> List[Tuple[str, torch.Tensor]]:
    """Every slot of every trained weight, Keras-named and -shaped (zeros before the first step)."""
    out = []
    for row, p in trained:
        state = optimizer.state.get(p, {})
        for slot in SLOTS[name]:
            t = state.get(_TORCH_SLOT[slot])
            out.append((f"{row.keras}/{slot}", to_keras(t if t is not None else torch.zeros_like(p), row.layout)))
    return out


def iterations_of(optimizer: torch.optim.Optimizer, name: str, fallback: int) -> int:
    """Adam's t (per tensor in torch, global in the run folder); SGD has none, so the loop counts."""
    if name == "sgd":
        return fallback
    for state in optimizer.state.values():
        step = state.get("step")
        if step is not None:
            return int(step.item() if torch.is_tensor(step) else step)
    return fallback


def set_slots(optimizer: torch.optim.Optimizer, name: str, iterations: int, trained: List[Tuple[NameRow, torch.nn.Parameter]],
              slots: Mapping[str, torch.Tensor]) -> None:
    """Restores a saved state; every slot must be there with the weight's shape."""
    if iterations == 0:
        return  # torch.optim creates its state at the first step, as from zeros
    for row, p in trained:
        state: Dict[str, Any] = {}
        for slot in SLOTS[name]:
            key = f"{row.keras}/{slot}"
            saved = slots.get(key)
            if saved is None:
                raise UserError(f"The saved {name} state has no slot {key}; it was saved for another model or optimizer.")
            t = from_keras(saved, row.layout)
            if list(t.shape) != list(p.shape):
                raise UserError(f"The saved slot {key} has shape {list(saved.shape)}; the model needs {list(to_keras(p, row.layout).shape)}.")
            buf = torch.empty_like(p)  # the parameter's device, dtype and strides (channels_last)
            buf.copy_(t)
            state[_TORCH_SLOT[slot]] = buf
        if name != "sgd":
            state["step"] = torch.tensor(float(iterations))
        optimizer.state[p] = state
