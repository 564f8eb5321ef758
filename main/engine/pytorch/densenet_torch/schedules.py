"""Learning-rate schedules as pure functions of (step, steps per epoch, settings), ported from
main/engine/train/schedules.ts so that both engines give every step the same rate, and a resumed
run recomputes exactly the rate the uninterrupted run used. `step` is the 0-based index of the step
about to be taken.

The paper's recipe (Huang et al. §4.2) is `multistep` with milestones at 50% and 75% of the epochs
and gamma 0.1. Warm-up follows Goyal et al. 2017 ("gradual warmup"), one-cycle Smith & Topin 2019
with PyTorch's OneCycleLR defaults.

Porting note: JavaScript's Math.round rounds halves up, Python's round() to even; js_round keeps
the TS behaviour (milestone epochs, warm-up steps and the one-cycle peak are rounded).
"""
import math
from typing import Any, List, Mapping

ONE_CYCLE = {"pctStart": 0.3, "divFactor": 25.0, "finalDivFactor": 1e4}


def js_round(x: float) -> int:
    return int(math.floor(x + 0.5))


def _check(step: int, steps_per_epoch: int) -> None:
    if not isinstance(step, int) or step < 0:
        raise ValueError(f"A schedule step must be an integer ≥ 0; got {step!r}.")
    if not isinstance(steps_per_epoch, int) or steps_per_epoch < 1:
        raise ValueError(f"Steps per epoch must be an integer ≥ 1; got {steps_per_epoch!r}.")


def milestone_epochs(settings: Mapping[str, Any]) -> List[int]:
    return [js_round(f * settings["epochs"]) for f in settings["milestones"]]


def _cosine_anneal(start: float, end: float, fraction: float) -> float:
    return end + (start - end) * (1 + math.cos(math.pi * min(1.0, max(0.0, fraction)))) / 2


def warmup_step_count(steps_per_epoch: int, settings: Mapping[str, Any]) -> int:
    """Warm-up steps; one-cycle has its own ramp, so warm-up does not apply to it."""
    if settings["schedule"] == "onecycle":
        return 0
    return js_round(settings["warmupEpochs"] * steps_per_epoch)


def _scheduled(step: int, spe: int, s: Mapping[str, Any]) -> float:
    epoch = step // spe
    total = s["epochs"] * spe
    warmup = warmup_step_count(spe, s)
    kind = s["schedule"]
    lr = float(s["lr"])
    if kind == "constant":
        return lr
    if kind == "multistep":
        passed = sum(1 for m in milestone_epochs(s) if epoch >= m)
        return lr * s["gamma"] ** passed
    if kind == "step":
        return lr * s["gamma"] ** (epoch // s["stepEpochs"])
    if kind == "cosine":
        span = max(1, total - warmup)
        return _cosine_anneal(lr, 0.0, (step - warmup) / span)
    if kind == "onecycle":
        initial = lr / ONE_CYCLE["divFactor"]
        final = initial / ONE_CYCLE["finalDivFactor"]
        peak = max(1, js_round(ONE_CYCLE["pctStart"] * total) - 1)
        if step <= peak:
            return _cosine_anneal(initial, lr, step / peak)
        return _cosine_anneal(lr, final, (step - peak) / max(1, total - 1 - peak))
    raise ValueError(f"Schedule must be one of multistep, step, cosine, onecycle, constant; got {kind!r}.")


def learning_rate_at(step: int, steps_per_epoch: int, settings: Mapping[str, Any]) -> float:
    """The rate for `step`; during warm-up the scheduled rate scaled linearly from 1/W up to 1."""
    _check(step, steps_per_epoch)
    lr = _scheduled(step, steps_per_epoch, settings)
    warmup = warmup_step_count(steps_per_epoch, settings)
    if step < warmup:
        return lr * (step + 1) / warmup
    return lr
