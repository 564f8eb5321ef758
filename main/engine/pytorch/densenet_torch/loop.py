"""The training loop (main/engine/train/loop.ts, ported): reports every step, pauses, resumes or
stops between any two steps, hands gradients to the inspection probes, and saves and restores its
whole state (weights, optimizer slots, step, data RNG) for an exact resume.

Same semantics as the TF.js loop, step for step: the learning rate of step s is
learning_rate_at(s); gradient flow is captured on steps where (s + 1) % gradientsEvery == 0;
layer stats run after step s when s % statsEvery == 0 (not on an epoch's last step, where the
epoch-end probe runs); interval checkpoints likewise every checkpointEvery steps; each epoch ends
with validation, the epoch event, the epoch-end probe, early stopping and an `epoch` checkpoint.
A loss that is not finite ends the run (`diverged`) before the step's update reaches the weights.
"""
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import device as dev
from .batches import iterate_batches
from .control import Control
from .data import TrainData
from .distributed import Dist
from .optim import iterations_of, set_lr
from .rng import SeedPurpose, stream_seed
from .schedules import learning_rate_at


@dataclass
class LoopResult:
    reason: str  # completed | stopped | early-stopped | diverged
    step: int
    epoch: int
    best: Optional[Dict[str, Any]]
    last: Dict[str, Optional[float]]
    message: Optional[str] = None


class OutOfMemory(Exception):
    def __init__(self, batch: int, err: BaseException):
        super().__init__(str(err))
        self.batch = batch


@dataclass
class Loop:
    run_id: str
    model: nn.Module  # what trains (a DistributedDataParallel wrapper under torchrun)
    data: TrainData
    settings: Dict[str, Any]
    control: Control
    optimizer: torch.optim.Optimizer
    choice: dev.DeviceChoice
    dist: Dist
    to_input: Callable[[Any], torch.Tensor]
    hooks: Any  # event(e), capture_gradients(step, epoch), after_step(step, epoch), probe(step, epoch, end), checkpoint(state)
    scaler: Optional[Any] = None
    resume: Optional[Dict[str, Any]] = None
    now: Callable[[], float] = field(default=lambda: time.time() * 1000)
    workers: int = 0
    dropout: bool = False

    def run(self) -> LoopResult:
        s, data, dist = self.settings, self.data, self.dist
        spe = data.steps_per_epoch
        r = self.resume or {}
        self.step, self.epoch, self.epoch_step = r.get("step", 0), r.get("epoch", 0), r.get("epochStep", 0)
        self.best = r.get("best")
        self.early = dict(r.get("earlyStopping") or {"best": None, "badEpochs": 0})
        self.last: Dict[str, Optional[float]] = {"loss": None, "accuracy": None, "valLoss": None, "valAccuracy": None}
        self.lr = learning_rate_at(self.step, spe, s)
        if self.resume:
            data.set_rng_state(self.resume["rng"])
        smoothing = float(s.get("labelSmoothing", 0))
        self.criterion = nn.CrossEntropyLoss(reduction="sum", label_smoothing=smoothing) if smoothing else nn.CrossEntropyLoss(reduction="sum")

        while self.epoch < s["epochs"]:
            epoch_rng = data.rng_state()
            epoch_start = self.now()
            plan = data.epoch_plan()
            loss_sum = correct_sum = seen = 0.0
            last_tick = self.now()
            share = dist.share if dist.enabled else None
            for batch in iterate_batches(plan, self.epoch_step, self.workers, self.choice.kind == "cuda", share):
                while True:
                    action = dist.broadcast_action(self.control.gate(self._pause_tick) if dist.main else None)
                    if action == "go":
                        break
                    if action == "stop":
                        self._checkpoint("stop", epoch_rng, self.epoch, self.epoch_step)
                        return LoopResult("stopped", self.step, self.epoch, self.best, self.last)
                    if action == "snapshot":
                        self._checkpoint("snapshot", epoch_rng, self.epoch, self.epoch_step)
                self.lr = learning_rate_at(self.step, spe, s)
                set_lr(self.optimizer, self.lr)
                want = s["gradientsEvery"] > 0 and (self.step + 1) % s["gradientsEvery"] == 0
                loss, correct, n = self._train_step(batch, want)
                if not math.isfinite(loss):
                    message = (f"The loss became {_js_number(loss)} at step {self.step + 1} (epoch {self.epoch + 1}) with learning rate "
                               f"{_js_number(self.lr)}; the run stopped and keeps its last good checkpoint. Try a lower learning rate "
                               f"(e.g. {_js_number(self.lr / 10)}).")
                    self.hooks.event({"type": "log", "level": "warn", "message": message, "time": self.now()})
                    return LoopResult("diverged", self.step, self.epoch, self.best, self.last, message)
                self.step += 1
                self.epoch_step += 1
                loss_sum += loss * n
                correct_sum += correct
                seen += n
                self.last = {**self.last, "loss": loss, "accuracy": correct / n}
                t = self.now()
                self.hooks.event({
                    "type": "step", "runId": self.run_id, "step": self.step, "epoch": self.epoch, "epochStep": self.epoch_step,
                    "stepsPerEpoch": spe, "loss": loss, "accuracy": correct / n, "lr": self.lr,
                    "imagesPerSec": n / max(1e-6, (t - last_tick) / 1000), "time": t,
                    # The batch's size and the epoch's means so far, as the TF.js loop sends them (a short
                    # last batch must not read as the epoch's loss).
                    "images": n, "epochLoss": loss_sum / seen, "epochAccuracy": correct_sum / seen,
                })
                last_tick = t
                self.hooks.after_step(self.step, self.epoch)
                if s["statsEvery"] > 0 and self.step % s["statsEvery"] == 0 and self.epoch_step < spe and dist.main:
                    self.hooks.probe(self.step, self.epoch, False)
                if self.step % s["checkpointEvery"] == 0 and self.epoch_step < spe:
                    self._checkpoint("interval", epoch_rng, self.epoch, self.epoch_step)

            # ---- epoch end ----
            val = self._evaluate()
            val_loss = val[0] if val else None
            val_acc = val[1] if val else None
            self.last = {"loss": loss_sum / seen if seen else self.last["loss"], "accuracy": correct_sum / seen if seen else self.last["accuracy"],
                         "valLoss": val_loss, "valAccuracy": val_acc}
            if val_acc is not None and (self.best is None or self.best.get("valAccuracy") is None or val_acc > self.best["valAccuracy"]):
                self.best = {"valAccuracy": val_acc, "valLoss": val_loss, "epoch": self.epoch, "step": self.step}
            self.hooks.event({
                "type": "epoch", "runId": self.run_id, "epoch": self.epoch, "step": self.step,
                "loss": self.last["loss"], "accuracy": self.last["accuracy"], "valLoss": val_loss, "valAccuracy": val_acc,
                "lr": self.lr, "seconds": (self.now() - epoch_start) / 1000, "time": self.now(),
            })
            if dist.main:
                self.hooks.probe(self.step, self.epoch, True)
            stop_early = self._early_stopping(val_loss, val_acc)
            self.epoch += 1
            self.epoch_step = 0
            self._checkpoint("epoch", data.rng_state(), self.epoch, 0)
            if stop_early:
                rule = s["earlyStopping"]
                self.hooks.event({"type": "log", "level": "info", "time": self.now(), "message":
                                  f"Early stopping after epoch {self.epoch}: {rule['metric']} did not improve for {self.early['badEpochs']} epochs."})
                return LoopResult("early-stopped", self.step, self.epoch, self.best, self.last)
        return LoopResult("completed", self.step, self.epoch, self.best, self.last)

    def _pause_tick(self) -> None:
        # While rank 0 is paused the others wait in the action broadcast; keep them company.
        if self.dist.enabled:
            self.dist.broadcast_action("wait")

    def _train_step(self, batch, want_grads: bool) -> Tuple[float, float, int]:
        s, choice = self.settings, self.choice
        x = self.to_input(batch.x)
        y = (batch.y if torch.is_tensor(batch.y) else torch.from_numpy(batch.y)).to(choice.device, non_blocking=True)
        local = int(batch.n)
        if self.dropout:
            # Dropout masks are a function of (seed, step): reproducible, and identical after a resume.
            torch.manual_seed(stream_seed(s["seed"], SeedPurpose.DROPOUT, self.step))
        try:
            dev.check_injected_oom(local)
            self.optimizer.zero_grad(set_to_none=True)
            with dev.autocast(choice):
                logits = self.model(x)
            logits = logits.float()
            loss_sum = self.criterion(logits, y)
            correct = (logits.argmax(dim=1) == y).sum()
            total_loss, total_correct, n = self.dist.sum(torch.stack([loss_sum.detach().double(), correct.double(),
                                                                      torch.tensor(float(local), dtype=torch.float64, device=logits.device)]))
            loss = total_loss / n
            if not math.isfinite(loss):
                return loss, 0.0, int(n)
            # DDP averages gradients over ranks: scale so the average is the global batch's mean.
            objective = loss_sum * (self.dist.world / n)
            if self.scaler is not None:
                self.scaler.scale(objective).backward()
            else:
                objective.backward()
            if want_grads and self.dist.main:
                if self.scaler is not None:
                    self.scaler.unscale_(self.optimizer)
                self.hooks.capture_gradients(self.step, self.epoch)
            if self.scaler is not None:
                self.scaler.step(self.optimizer)
                self.scaler.update()
            else:
                self.optimizer.step()
            return loss, total_correct, int(n)
        except Exception as err:  # noqa: BLE001 - out of memory is the one failure with a remedy
            if dev.is_out_of_memory(err):
                raise OutOfMemory(local, err) from err
            raise

    def _evaluate(self) -> Optional[Tuple[float, float]]:
        """Plain cross-entropy (no label smoothing) and accuracy on the validation split, in
        inference mode; under DDP each rank takes every world-th batch and the sums are shared."""
        plan = self.data.val_plan()
        if plan is None:
            return None
        raw = self.model.module if hasattr(self.model, "module") else self.model
        self.dist.sync_buffers(raw)
        was = raw.training
        raw.eval()
        loss = correct = n = 0.0
        try:
            with torch.no_grad(), dev.autocast(self.choice):
                for b in range(self.dist.rank, plan.count, self.dist.world):
                    batch = plan.batch(b)
                    logits = raw(self.to_input(batch.x)).float()
                    y = torch.from_numpy(batch.y).to(self.choice.device)
                    loss += F.cross_entropy(logits, y, reduction="sum").item()
                    correct += (logits.argmax(dim=1) == y).sum().item()
                    n += batch.n
        finally:
            raw.train(was)
        loss, correct, n = self.dist.sum([loss, correct, n])
        return (loss / n, correct / n) if n else None

    def _early_stopping(self, val_loss, val_acc) -> bool:
        rule = self.settings.get("earlyStopping")
        if not rule:
            return False
        value = val_loss if rule["metric"] == "valLoss" else val_acc
        if value is None:
            self.hooks.event({"type": "log", "level": "warn", "time": self.now(),
                              "message": "Early stopping is on but the run has no validation split; it will not stop early."})
            return False
        best, delta = self.early["best"], rule.get("minDelta", 0)
        improved = best is None or (value < best - delta if rule["metric"] == "valLoss" else value > best + delta)
        if improved:
            self.early = {"best": value, "badEpochs": 0}
        else:
            self.early = {"best": best, "badEpochs": self.early["badEpochs"] + 1}
        return self.early["badEpochs"] >= rule["patience"]

    def _checkpoint(self, reason: str, rng: List[int], epoch: int, epoch_step: int) -> None:
        if not self.dist.main:
            return
        self.hooks.checkpoint({
            "step": self.step, "epoch": epoch, "epochStep": epoch_step, "stepsPerEpoch": self.data.steps_per_epoch,
            "lr": self.lr, "reason": reason, "metrics": dict(self.last), "best": self.best, "rng": list(rng),
            "earlyStopping": dict(self.early),
            "optimizer": {"name": self.settings["optimizer"], "iterations": iterations_of(self.optimizer, self.settings["optimizer"], self.step)},
        })


def _js_number(x: float) -> str:
    """A number as JavaScript prints it (NaN, Infinity), so messages read the same from both engines."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return repr(x)
