"""Train one prepared run folder: the PyTorch engine's "train a run" use case, independent of how
commands arrive (the protocol session, or standalone). It owns the run while it trains: takes the
lock, writes status.json, summary.json, checkpoints and metrics.jsonl (rank 0 only), and reports
every event to `emit`."""
import os
import platform
import socket
import sys
import time
from typing import Any, Callable, Dict, Optional

import torch
import torch.nn as nn

from . import ENGINE_VERSION
from . import device as dev
from .atomic import write_json_atomic
from .checkpoint import NonFiniteWeightsError, list_checkpoints, load_checkpoint, now_iso, write_checkpoint
from .control import Control
from .data import DatasetCache, TrainData
from .distributed import Dist, convert_sync_batchnorm, set_parent_death_signal
from .errors import UserError, error_data
from .inspection.inspector import Inspector
from .inspection.ondemand import OnDemand
from .inspection.thumbnails import thumbnails
from .loop import Loop, LoopResult, OutOfMemory
from .metrics_log import METRICS_FILE, MetricsWriter
from .model import DenseNet, freeze_features
from .oom import largest_batch_that_fits, oom_message
from .optim import build_optimizer, get_slots, set_slots
from .rng import SeedPurpose, stream_seed
from .run_folder import acquire_lock, read_config, read_import_record, read_status, release_lock, write_status, write_summary
from .weights import load_weights, model_weights, trained_parameters

Emit = Callable[[Dict[str, Any]], None]
_EMPTY = {"loss": None, "accuracy": None, "valLoss": None, "valAccuracy": None}


def versions() -> Dict[str, str]:
    import torchvision
    return {"python": platform.python_version(), "torch": torch.__version__, "torchvision": torchvision.__version__,
            "densenet-torch-engine": ENGINE_VERSION}


class RunTrainer:
    def __init__(self, emit: Emit, now: Callable[[], float] = lambda: time.time() * 1000, dist: Optional[Dist] = None):
        self.emit_raw = emit
        self.now = now
        self.dist = dist or Dist()
        self.control: Optional[Control] = None
        self.inspector: Optional[Inspector] = None
        self.ondemand: Optional[OnDemand] = None
        self._status: Optional[Callable[..., None]] = None
        self.stop_cause = "user"
        self.metrics: Optional[MetricsWriter] = None
        self.run_id: Optional[str] = None

    # ---- events ----
    def emit(self, event: Dict[str, Any]) -> None:
        if not self.dist.main:
            return
        if self.metrics is not None:
            try:
                self.metrics.append(event)
            except OSError:
                pass  # a full disk must not stop the events reaching the host; checkpoints report their own failures
        self.emit_raw(event)

    def state(self, state: str) -> None:
        self.emit({"type": "state", "state": state, **({"runId": self.run_id} if self.run_id else {})})

    def log(self, level: str, message: str) -> None:
        self.emit({"type": "log", "level": level, "message": message, "time": self.now()})

    def error(self, err: BaseException, fatal: bool) -> None:
        self.emit({"type": "error", **({"runId": self.run_id} if self.run_id else {}), "error": error_data(err), "fatal": fatal, "time": self.now()})

    # ---- control, from the session's reader thread ----
    def stop(self, cause: str = "user") -> bool:
        if self.control is None:
            return False
        if self.control.stop():
            self.stop_cause = cause
            if self._status:
                self._status("stopping")  # the store first, then the event, as everywhere
            self.state("stopping")
        return True

    # ---- the run ----
    def train(self, run_dir: str, fresh: bool, options: Optional[Dict[str, Any]] = None) -> str:
        """Trains until done, stopped or failed; returns the final status."""
        options = options or {}
        run_dir = os.path.abspath(run_dir)
        self.run_id = os.path.basename(run_dir)
        self.stop_cause = "user"
        control = Control()
        self.control = control
        started = self.now()
        progress = {"step": 0, "epoch": 0, "epochStep": 0, "stepsPerEpoch": 1}
        locked = False
        config: Optional[Dict[str, Any]] = None
        pid = os.getpid()

        def status(value: str, message: Optional[str] = None, best: Any = "keep", last_val: Any = "keep", reason: Optional[str] = None) -> None:
            # `value` is a run status of the lifecycle (shared/run/lifecycle.ts); `reason` says why a finished run finished.
            if config is None or not self.dist.main:
                return
            previous = read_status(run_dir) or {}
            write_status(run_dir, {
                "status": value, "reason": reason, "pid": pid if value in ("created", "running", "paused", "stopping") else None,
                **progress, "epochs": config["settings"]["epochs"],
                "best": previous.get("best") if best == "keep" else best,
                "lastValAccuracy": previous.get("lastValAccuracy") if last_val == "keep" else last_val,
                **({"message": message} if message else {}),
            })

        self._status = status

        def on_control(s: str) -> None:
            status("paused" if s == "paused" else "running")
            self.state("paused" if s == "paused" else "running")
        control.listeners.append(on_control)

        try:
            config = read_config(run_dir)
            settings = dict(config["settings"])
            if self.dist.main:
                acquire_lock(run_dir, pid)
                locked = True
                self.metrics = MetricsWriter(os.path.join(run_dir, METRICS_FILE))
            # The session's first line: a replay of metrics.jsonl sees where each session begins.
            status("created")
            self.state("created")
            if fresh and list_checkpoints(run_dir):
                raise UserError(f"Run {self.run_id} already has checkpoints; resume it instead of starting it again.")
            choice = dev.choose_device(options.get("device") or settings.get("device", "auto"),
                                       options.get("precision") or settings.get("precision", "fp32"),
                                       bool(options.get("channelsLast", settings.get("channelsLast", False))),
                                       self._threads(options))
            self.dist.init()
            self.dist.use_device(choice.kind)
            if self.dist.enabled:
                set_parent_death_signal()
            report = choice.report()
            if self.dist.enabled:
                report["distributed"] = {"worldSize": self.dist.world, "backend": self.dist.backend,
                                         "syncBatchNorm": bool(settings.get("syncBatchNorm", False))}
            self.log("info", _format_report(report))

            cache = DatasetCache(run_dir)
            model_config = config["model"]
            if len(cache.classes) != model_config["classes"]:
                raise UserError(f"The model has {model_config['classes']} classes but the dataset cache has {len(cache.classes)}; prepare the run again.")
            data = TrainData(cache, settings, config.get("normalization"))
            progress["stepsPerEpoch"] = data.steps_per_epoch
            torch.manual_seed(stream_seed(settings["seed"], SeedPurpose.INIT))
            raw = DenseNet(model_config)
            record = read_import_record(run_dir)
            if record and record.get("freezeFeatures"):
                freeze_features(raw)
                self.log("info", "Feature layers are frozen (import --freeze-features): only the classifier trains.")

            resume = None
            slots: Dict[str, torch.Tensor] = {}
            if not fresh:
                try:
                    ckpt = load_checkpoint(run_dir, "latest")
                except UserError as err:
                    if "newer workbench" in str(err):
                        raise
                    self.log("warn", f"{err} The run starts again from step 0 with the same seed.")
                    ckpt = None
                if ckpt:
                    load_weights(raw, model_config, ckpt["weights"])
                    m = ckpt["manifest"]
                    resume = {"step": m["step"], "epoch": m["epoch"], "epochStep": m["epochStep"], "rng": m["rng"],
                              "earlyStopping": m["earlyStopping"], "best": m["best"], "iterations": m["optimizer"]["iterations"],
                              "optimizer": m["optimizer"]["name"]}
                    slots = ckpt["slots"]
                    progress.update(step=m["step"], epoch=m["epoch"], epochStep=m["epochStep"])
                    self.log("info", f"Resuming from checkpoint {m['name']}: epoch {m['epoch'] + 1}, step {m['step']}, learning rate and optimizer state as saved.")
            if (resume is None or resume["step"] == 0) and self.dist.main:
                # The run records what trained it (from its first step), also when it was prepared
                # or imported on another machine.
                write_json_atomic(os.path.join(run_dir, "config.json"), {**config, "engine": "pytorch", "backend": report,
                                                                         "versions": {**config.get("versions", {}), **versions()},
                                                                         "host": _host()})
            elif config.get("engine", "tfjs") != "pytorch":
                self.log("info", f"Run {self.run_id} was made by the {config.get('engine', 'tfjs')} engine; the PyTorch engine continues it "
                                 "from its checkpoint (config.json keeps the engine that made it).")
            if settings.get("syncBatchNorm") and not self.dist.enabled:
                self.log("info", "SyncBatchNorm is on but the run trains in one process, where batch norm has nothing to synchronize.")
            if settings.get("syncBatchNorm") and self.dist.enabled:
                raw = convert_sync_batchnorm(raw, self.dist.world, choice.kind, self.dist.group)
            raw = raw.to(choice.device, memory_format=dev.memory_format(choice))
            trained = trained_parameters(raw, model_config)
            optimizer = build_optimizer(settings, [p for _, p in trained], foreach=choice.kind != "cpu")
            if resume:
                if resume["optimizer"] != settings["optimizer"]:
                    raise UserError(f"The checkpoint's optimizer is {resume['optimizer']}, but the run trains with {settings['optimizer']}.")
                set_slots(optimizer, settings["optimizer"], resume["iterations"], trained, slots)
            model: nn.Module = raw
            if self.dist.enabled:
                from torch.nn.parallel import DistributedDataParallel
                # Gradients as views into DDP's buckets: no copy into them, and no layout mismatch to warn about.
                model = DistributedDataParallel(raw, device_ids=[choice.device.index] if choice.kind == "cuda" else None,
                                                process_group=self.dist.group, gradient_as_bucket_view=True)
            raw.train()

            to_input = _input_converter(choice)
            autocast = lambda: dev.autocast(choice)  # noqa: E731
            self.inspector = Inspector(self.run_id, raw, model_config, cache.classes, lambda: data.val_plan(), to_input, autocast,
                                       self.emit, self.now, trained, thumbnails=lambda idx: thumbnails(cache, idx))
            self.ondemand = OnDemand(self.run_id, self.emit, self.now)
            self.inspector.position = {"step": progress["step"], "epoch": progress["epoch"]}
            inspector = self.inspector

            last_checkpoint: Dict[str, Any] = {}

            def on_checkpoint(state: Dict[str, Any]) -> None:
                progress.update(step=state["step"], epoch=state["epoch"], epochStep=state["epochStep"])
                try:
                    written = write_checkpoint(run_dir, state, model_weights(raw, model_config), get_slots(optimizer, settings["optimizer"], trained),
                                               settings["keepCheckpoints"])
                    last_checkpoint.update(name=written["name"], step=state["step"])
                    if self.metrics:
                        self.metrics.sync()
                    if state["reason"] == "snapshot":
                        # The line the UI settles its "Checkpoint requested" banner on (shared/protocol/trainer.ts).
                        self.log("info", f"Checkpoint {written['name']} written at step {state['step']}, as requested.")
                except NonFiniteWeightsError as err:
                    raise _Diverged(f"{err} The weights diverged by step {state['step']}; the run stopped and keeps its last good checkpoint. "
                                    "Try a lower learning rate.") from None
                except OSError as err:
                    self.error(UserError(f"Checkpoint at step {state['step']} could not be written ({err}); the previous checkpoint is "
                                         "intact and training goes on."), False)
                status("paused" if control.state == "paused" else "running", best=state["best"])

            trainer = self

            class Hooks:
                def event(self, e: Dict[str, Any]) -> None:
                    trainer.emit(e)
                    if e["type"] == "epoch":
                        status("paused" if control.state == "paused" else "running", last_val=e["valAccuracy"])

                def capture_gradients(self, step: int, epoch: int) -> None:
                    inspector.capture_gradients(step, epoch)

                def after_step(self, step: int, epoch: int) -> None:
                    progress.update(step=step, epoch=epoch)
                    if trainer.dist.main:
                        inspector.after_step(step, epoch)

                def probe(self, step: int, epoch: int, end: bool) -> None:
                    inspector.on_probe(step, epoch, end)

                def checkpoint(self, state: Dict[str, Any]) -> None:
                    on_checkpoint(state)

            status("running")
            self.state("paused" if control.state == "paused" else "running")
            loop = Loop(self.run_id, model, data, settings, control, optimizer, choice, self.dist, to_input, Hooks(),
                        scaler=dev.grad_scaler(choice), resume=resume, now=self.now,
                        workers=_workers(choice, options), dropout=model_config["dropRate"] > 0)
            try:
                result = loop.run()
            except _Diverged as err:
                result = LoopResult("diverged", progress["step"], progress["epoch"], None, dict(_EMPTY), str(err))
            except OutOfMemory as err:
                dev.free_memory(choice)
                fits = largest_batch_that_fits(raw, choice, model_config, err.batch)
                raise UserError(oom_message(choice, err.batch, fits, self.dist.world)) from None
            self._evaluate_at_end(inspector, result, last_checkpoint)
            return self._finish(run_dir, result, started, progress, status)
        except Exception as err:  # noqa: BLE001 - every failure becomes a failed run, with its reason recorded
            if self.dist.enabled and _peer_lost(err):
                err = PeerLost(f"Another process of this DistributedDataParallel run ({self.dist.world} processes) stopped "
                               f"({str(err).strip()}); the run is marked failed and keeps its last checkpoint. Resume it with the same "
                               "torchrun command, on any number of processes.")
            self.error(err, True)
            message = str(err)
            if config is not None and locked:
                status("failed", message)
                write_summary(run_dir, {"id": self.run_id, "reason": "failed", "finished": _iso(), "step": progress["step"],
                                        "epoch": progress["epoch"], "seconds": (self.now() - started) / 1000, "best": None,
                                        "last": dict(_EMPTY), "message": message})
            self.emit({"type": "finished", "runId": self.run_id, "reason": "failed", "step": progress["step"], "epoch": progress["epoch"],
                       "bestValAccuracy": None, "message": message, "time": self.now()})
            return "failed"
        finally:
            self._status = None
            self.inspector = None
            self.ondemand = None
            self.control = None
            if self.metrics:
                self.metrics.close()
                self.metrics = None
            if locked:
                release_lock(run_dir, pid)

    def _evaluate_at_end(self, inspector: Inspector, result: LoopResult, last_checkpoint: Dict[str, Any]) -> None:
        """Evaluates a run that completed, stopped early or was stopped by the user on its validation
        split, on the weights it ends with, before its `finished` event, as the TF.js engine does
        (main/engine/run/train-run.ts): a finished run opens with its confusion matrix. Not after a
        divergence, nor when the trainer must go. Rank 0 only; a failure is a warning."""
        if not self.dist.main or result.reason == "diverged" or (result.reason == "stopped" and self.stop_cause != "user"):
            return
        try:
            inspector.position = {"step": result.step, "epoch": result.epoch}
            event = inspector.evaluation()
        except UserError:
            return  # no validation split: nothing to evaluate on
        except Exception as err:  # noqa: BLE001 - the run is over either way; say why it has no evaluation
            self.error(UserError(f"The end-of-run evaluation failed ({err}); evaluate the run from its Evaluation screen or with `eval`."), False)
            return
        if last_checkpoint.get("step") == result.step:
            event["checkpoint"] = last_checkpoint["name"]
        self.emit(event)

    def _finish(self, run_dir: str, result: LoopResult, started: float, progress: Dict[str, int], status) -> str:
        progress.update(step=result.step, epoch=result.epoch)
        interrupted = result.reason == "stopped" and self.stop_cause != "user"
        final = ("finished" if result.reason in ("completed", "early-stopped")
                 else ("interrupted" if interrupted else "stopped") if result.reason == "stopped" else "failed")
        message = result.message
        if message is None and interrupted:
            how = "left without its host" if self.stop_cause == "host-lost" else "terminated"
            message = f"The trainer was {how} and stopped at step {result.step} with a checkpoint; resume it to go on."
        # How the session ended: a finish reason, or `interrupted` when the trainer had to go.
        end = "interrupted" if interrupted else result.reason
        if self.dist.main:
            write_summary(run_dir, {"id": self.run_id, "reason": end, "finished": _iso(), "step": result.step, "epoch": result.epoch,
                                    "seconds": (self.now() - started) / 1000, "best": result.best, "last": result.last,
                                    **({"message": message} if message else {})})
        if interrupted:
            status("interrupted", message, best=result.best)
        else:
            status("finished", message, best=result.best, reason=result.reason)
        if result.reason == "diverged":
            self.error(UserError(result.message or "The run diverged."), True)
        self.emit({"type": "finished", "runId": self.run_id, "reason": end, "step": result.step, "epoch": result.epoch,
                   "bestValAccuracy": (result.best or {}).get("valAccuracy"), **({"message": message} if message else {}), "time": self.now()})
        return final

    def inspect(self, what: str, sample: int = 0, request_id: Optional[str] = None) -> None:
        """Queues an on-demand probe; it runs on the training thread between steps."""
        inspector, control, ondemand = self.inspector, self.control, self.ondemand
        if inspector is None or control is None or ondemand is None:
            raise UserError("No run is training in this trainer; inspect a finished run from its checkpoints instead.")
        control.submit(what, lambda: ondemand.run(inspector, what, sample, request_id))

    def cancel_inspect(self, request_id: str) -> bool:
        return self.ondemand is not None and self.ondemand.cancel(request_id)

    def _threads(self, options: Dict[str, Any]) -> Optional[int]:
        if options.get("threads"):
            return int(options["threads"])
        if os.environ.get("WORKBENCH_TORCH_THREADS"):
            return int(os.environ["WORKBENCH_TORCH_THREADS"])
        local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
        return max(1, dev.available_cpus() // local_world) if local_world > 1 else None


class _Diverged(Exception):
    pass


class PeerLost(RuntimeError):
    """A DDP rank died (killed, its machine gone): the collective this process was in broke."""


def _peer_lost(err: BaseException) -> bool:
    text = str(err)
    return isinstance(err, RuntimeError) and any(s in text for s in ("gloo", "NCCL", "Connection reset", "Connection closed", "Broken pipe"))


def _workers(choice: dev.DeviceChoice, options: Dict[str, Any]) -> int:
    if "workers" in options:
        return int(options["workers"])
    return min(4, max(1, dev.available_cpus() - 1)) if choice.kind != "cpu" else 0


def _input_converter(choice: dev.DeviceChoice) -> Callable[[Any], torch.Tensor]:
    fmt = dev.memory_format(choice)

    def convert(x: Any) -> torch.Tensor:
        t = x if torch.is_tensor(x) else torch.from_numpy(x)
        # The cache is NHWC, as TF.js computes; torch's NCHW view of it is what channels_last stores.
        t = t.to(choice.device, non_blocking=True).permute(0, 3, 1, 2)
        return t.contiguous(memory_format=fmt)
    return convert


def _iso() -> str:
    return now_iso()


def _host() -> Dict[str, Any]:
    return {"hostname": socket.gethostname(), "platform": {"darwin": "darwin", "win32": "win32"}.get(sys.platform, "linux"),
            "arch": {"x86_64": "x64", "AMD64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(platform.machine(), platform.machine()),
            "cpus": os.cpu_count() or 1}


def _format_report(r: Dict[str, Any]) -> str:
    mem = f", {r['memoryBytes'] / 2 ** 30:.1f} GiB" if r.get("memoryBytes") else ""
    extra = "".join(f", {k} {r[k]}" for k in ("cuda", "rocm", "cudnn") if r.get(k))
    lines = [f"backend: pytorch (torch {r['version']}, {r['kind']}) on {r['device']}{mem}{extra}, {r['threads']} CPU thread"
             f"{'' if r['threads'] == 1 else 's'}, {r['precision']}{', channels_last' if r['channelsLast'] else ''}; python {r['python']}"]
    if r.get("distributed"):
        d = r["distributed"]
        lines.append(f"  DistributedDataParallel: {d['worldSize']} processes over {d['backend']}{', SyncBatchNorm' if d['syncBatchNorm'] else ''}")
    lines += [f"  skipped {s['backend']}: {s['reason']}" for s in r.get("skipped", [])]
    return "\n".join(lines)
