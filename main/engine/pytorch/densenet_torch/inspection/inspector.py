"""One run's inspection: probes as protocol events (shared/protocol/inspect.ts), at the TF.js
engine's cadences (main/engine/inspect/inspector.ts): layer stats every `statsEvery` steps and at
every epoch end on a fixed probe batch (the first 32 validation samples), gradient flow every
`gradientsEvery` steps, contributions at every epoch end, and any of them, plus activations,
ablation and evaluation, on request."""
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn

from ..errors import UserError
from ..names import NameRow
from .evaluation import accuracy_of, evaluate
from .graph import ablation_targets, graph
from .gradients import PendingGradients, kernel_groups
from .png import grayscale_png_base64
from .probes import inference, probe
from .stats import decode, stats_vector

Emit = Callable[[Dict[str, Any]], None]


class Inspector:
    def __init__(self, run_id: str, model: nn.Module, config: Dict[str, Any], classes: List[str], val_plan: Callable[[], Any],
                 to_input: Callable[[np.ndarray], torch.Tensor], autocast: Callable[[], Any], emit: Emit, now: Callable[[], float],
                 trained: List[Tuple[NameRow, nn.Parameter]], probe_size: int = 32, top_n: int = 8,
                 checkpoint: Optional[str] = None, thumbnails: Optional[Callable[[List[int]], List[Optional[str]]]] = None):
        self.run_id, self.model, self.config, self.classes = run_id, model, config, classes
        self.val_plan, self.to_input, self.autocast, self.emit, self.now = val_plan, to_input, autocast, emit, now
        self.nodes, self.blocks = graph(config)
        self.groups = kernel_groups(trained)
        self.probe_size, self.top_n = probe_size, top_n
        #: Set when inspecting a saved checkpoint (not the live weights): results name it.
        self.checkpoint = checkpoint
        self.thumbnails = thumbnails
        self.position = {"step": 0, "epoch": 0}
        self.pending: Optional[PendingGradients] = None
        self.last_gradients: Optional[Dict[str, Any]] = None
        self._probe_x: Optional[torch.Tensor] = None
        self._probe_y: Optional[np.ndarray] = None
        self._warned = False

    # ---- cadence hooks (called by the loop) ----
    def capture_gradients(self, step: int, epoch: int) -> None:
        self.position = {"step": step, "epoch": epoch}
        self.pending = PendingGradients(step, self.groups)

    def after_step(self, step: int, epoch: int) -> None:
        self.position = {"step": step, "epoch": epoch}
        if self.pending is not None and self.pending.step + 1 == step:
            pending, self.pending = self.pending, None
            self.last_gradients = {"type": "gradients", "runId": self.run_id, "step": step, "epoch": epoch, "layers": pending.finish(), "time": self.now()}
            self.emit(self.last_gradients)

    def on_probe(self, step: int, epoch: int, epoch_end: bool) -> None:
        self.position = {"step": step, "epoch": epoch}
        event = self.stats(epoch_end)
        if event:
            self.emit(event)
        if epoch_end:
            self.emit(self.contributions())

    # ---- the probes ----
    def _probe_batch(self) -> Optional[torch.Tensor]:
        if self._probe_x is not None:
            return self._probe_x
        plan = self.val_plan()
        if plan is None:
            if not self._warned:
                self._warned = True
                self.emit({"type": "log", "level": "warn", "time": self.now(),
                           "message": "Layer statistics need a validation split for their probe batch; this run has none, so none are computed."})
            return None
        xs, ys, n = [], [], 0
        for b in range(plan.count):
            batch = plan.batch(b)
            take = min(batch.n, self.probe_size - n)
            xs.append(batch.x[:take])
            ys.append(batch.y[:take])
            n += take
            if n >= self.probe_size:
                break
        self._probe_x = self.to_input(np.concatenate(xs)) if n else None
        self._probe_y = np.concatenate(ys) if n else None
        return self._probe_x

    def stats(self, epoch_end: bool = False) -> Optional[Dict[str, Any]]:
        x = self._probe_batch()
        if x is None:
            return None
        with self.autocast():
            vectors = probe(self.model, self.nodes, x, stats_vector)
        ids = [n.id for n in self.nodes]
        data = torch.cat([vectors[i] for i in ids]).cpu().tolist()
        return {"type": "layerStats", "runId": self.run_id, **self.position, "epochEnd": epoch_end, "layers": decode(ids, data),
                **self._source(), "time": self.now()}

    def _source(self) -> Dict[str, str]:
        return {"checkpoint": self.checkpoint} if self.checkpoint else {}

    def contributions(self) -> Dict[str, Any]:
        """Fig. 5: mean |w| of each target's first weight layer over the input channels from each source."""
        modules = dict(self.model.named_modules())
        by_id = {n.id: n for n in self.nodes}
        targets = [by_id[t] for b in self.blocks for t in b.targets]
        with torch.no_grad():
            means = []
            for node in targets:
                w = modules[node.weight_module].weight.detach().float().abs()
                # Conv [O, I, kh, kw] and Linear [O, I]: the input channels are axis 1.
                means.append(w.mean(dim=[d for d in range(w.dim()) if d != 1]))
            data = torch.cat(means).cpu().double().tolist()
        at, blocks = 0, []
        for b in self.blocks:
            values = []
            for t in b.targets:
                node = by_id[t]
                width = modules[node.weight_module].weight.shape[1]
                row: List[Optional[float]] = [None] * len(b.sources)
                for source, start, end in node.inputs:
                    if not (0 <= start < end <= width):
                        raise ValueError(f"Channel range [{start}, {end}) of {t} does not fit the {width} input channels of {node.weight_module}.")
                    row[source] = sum(data[at + start:at + end]) / (end - start)
                values.append(row)
                at += width
            blocks.append({"block": b.index, "sources": list(b.sources), "targets": list(b.targets), "values": values})
        return {"type": "contributions", "runId": self.run_id, **self.position, "blocks": blocks, "time": self.now()}

    def _val_predictions(self, work: Any = None, what: str = "Predicted") -> Tuple[List[int], List[int], List[float], float]:
        plan = self._require_val("Evaluation")
        labels: List[int] = []
        predicted: List[int] = []
        confidence: List[float] = []
        loss = 0.0
        with inference(self.model), self.autocast():
            for b in range(plan.count):
                batch = plan.batch(b)
                logits = self.model(self.to_input(batch.x)).float()
                y = torch.from_numpy(batch.y).to(logits.device)
                loss += float(torch.nn.functional.cross_entropy(logits, y, reduction="sum"))
                top, idx = torch.softmax(logits, dim=1).max(dim=1)
                labels += batch.y.tolist()
                predicted += idx.cpu().tolist()
                confidence += top.cpu().tolist()
                if work is not None and what == "Predicted":
                    work.step(len(labels), plan.split.count, f"Predicted {len(labels)} of {plan.split.count} validation images")
        return labels, predicted, confidence, loss / max(1, len(labels))

    def evaluation(self, top: int = 16, work: Any = None) -> Dict[str, Any]:
        labels, predicted, confidence, loss = self._val_predictions(work)
        r = evaluate(labels, predicted, confidence, len(self.classes), top)
        if self.thumbnails and r["misclassified"]:
            for m, png in zip(r["misclassified"], self.thumbnails([m["index"] for m in r["misclassified"]])):
                if png:
                    m["thumbnail"] = png
        return {"type": "evaluation", "runId": self.run_id, "step": self.position["step"], "classes": list(self.classes), **r,
                **self._source(), "split": "validation split", "loss": loss, "time": self.now()}

    def ablation(self, work: Any = None) -> Dict[str, Any]:
        """Validation accuracy with each dense layer's k new maps zeroed, one layer at a time: its
        conv2 is bias-free and dropout is the identity at inference, so a zero kernel makes exactly
        the maps the block concatenates zero. The kernel is restored afterwards, also on errors."""
        modules = dict(self.model.named_modules())
        started = self.now()
        accuracy = lambda: accuracy_of(*self._val_predictions(work, "Zeroed")[:2])  # noqa: E731
        targets = ablation_targets(self.nodes)
        baseline = accuracy()
        layers = []
        for k, (node_id, conv) in enumerate(targets):
            if work is not None:
                work.step(k, len(targets), f"Zeroed {node_id}")
            weight = modules[conv].weight
            saved = weight.detach().clone()
            try:
                with torch.no_grad():
                    weight.zero_()
                acc = accuracy()
            finally:
                with torch.no_grad():
                    weight.copy_(saved)
            layers.append({"layer": node_id, "accuracy": acc, "drop": baseline - acc})
        if work is not None:
            work.step(len(targets), len(targets), "Done")
        samples = self.val_plan().split.count
        return {"type": "ablation", "runId": self.run_id, "step": self.position["step"], "baselineAccuracy": baseline, "layers": layers,
                **self._source(), "samples": samples, "seconds": (self.now() - started) / 1000, "time": self.now()}

    def activations(self, sample: int) -> Dict[str, Any]:
        plan = self._require_val("Activation maps")
        if not 0 <= sample < plan.split.count:
            raise UserError(f"Sample {sample} is outside the validation split, which has {plan.split.count} samples (0..{plan.split.count - 1}).")
        batch = plan.batch(sample // plan.batch_size)
        i = sample % plan.batch_size
        spatial = [n for n in self.nodes if n.kind != "classifier"]
        with self.autocast():
            maps = probe(self.model, spatial, self.to_input(batch.x[i:i + 1]), lambda t: t.detach()[0].float().clone())
        layers = []
        for node in spatial:
            m = maps[node.id]  # [C, H, W]
            c, h, w = m.shape
            n = min(self.top_n, c)
            idx = torch.topk(m.mean(dim=(1, 2)), n).indices
            chosen = m[idx].reshape(n, h * w)
            lo = chosen.min(dim=1, keepdim=True).values
            span = torch.clamp(chosen.max(dim=1, keepdim=True).values - lo, min=1e-12)
            pixels = torch.round((chosen - lo) / span * 255).to(torch.uint8).cpu().numpy()
            layers.append({"layer": node.id, "channels": idx.cpu().tolist(), "width": int(w), "height": int(h),
                           "pngs": [grayscale_png_base64(pixels[j].tobytes(), int(w), int(h)) for j in range(n)]})
        label = int(batch.y[i])
        return {"type": "activations", "runId": self.run_id, "step": self.position["step"], "sample": sample,
                "label": self.classes[label] if label < len(self.classes) else str(label), "layers": layers, **self._source(), "time": self.now()}

    def gradients(self) -> Optional[Dict[str, Any]]:
        """While training, gradients exist only inside a step: on request, the last captured step's.
        Before the first capture (a paused run short of "gradients every N steps"), and from a
        checkpoint, they are computed on the probe batch: plain cross-entropy in inference mode
        (moving statistics, no dropout), no update applied, so `updateRatio` is null
        (main/engine/inspect/gradients.ts gradientsAt). None only without a validation split."""
        if not self.checkpoint and self.last_gradients is not None:
            return self.last_gradients
        x = self._probe_batch()
        if x is None:
            return None
        y = torch.from_numpy(self._probe_y).to(x.device)
        params = [p for _, ps in self.groups for p in ps]
        was = self.model.training
        self.model.eval()
        try:
            loss = torch.nn.functional.cross_entropy(self.model(x).float(), y)
            grads = torch.autograd.grad(loss, params, allow_unused=True)
        finally:
            self.model.train(was)
        by_param = {id(p): g for p, g in zip(params, grads)}
        layers = []
        with torch.no_grad():
            for layer, ps in self.groups:
                gsq = sum(float(by_param[id(p)].float().pow(2).sum()) for p in ps if by_param[id(p)] is not None)
                wsq = sum(float(p.detach().float().pow(2).sum()) for p in ps)
                layers.append({"layer": layer, "gradNorm": gsq ** 0.5, "weightNorm": wsq ** 0.5, "updateRatio": None})
        return {"type": "gradients", "runId": self.run_id, **self.position, "layers": layers, **self._source(), "time": self.now()}

    def compute(self, what: str, sample: int = 0, work: Any = None) -> Optional[Dict[str, Any]]:
        """The result event of one on-demand request (./ondemand.py reports it)."""
        if what == "stats":
            return self.stats(False)
        if what == "gradients":
            return self.gradients()
        if what == "contributions":
            return self.contributions()
        if what == "activations":
            return self.activations(sample)
        if what == "ablation":
            return self.ablation(work)
        if what == "evaluation":
            return self.evaluation(16, work)
        raise UserError(f"Inspection must be one of stats, gradients, contributions, activations, ablation, evaluation; got {what!r}.")

    def _require_val(self, what: str) -> Any:
        plan = self.val_plan()
        if plan is None:
            raise UserError(f"{what} needs a validation split; this run has none (set valFraction > 0).")
        return plan
