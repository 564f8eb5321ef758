"""python3 -m densenet_torch (--protocol | --run RUN | --probe): see ./__init__.py."""
import argparse
import os
import sys
import time

HELP = """Train a prepared DenseNet Workbench run folder with PyTorch.

  python3 -m densenet_torch --run runs/ID [--device auto|cuda|mps|cpu]
  torchrun --nproc_per_node N -m densenet_torch --run runs/ID     (DistributedDataParallel)

Prepare the run folder with `densenet-workbench train --backend pytorch --prepare-only ...`."""


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m densenet_torch", description=HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--protocol", action="store_true", help="speak the trainer protocol on stdin/stdout (started by a workbench host)")
    mode.add_argument("--run", metavar="RUN", help="train this prepared run folder, or continue it from its last checkpoint")
    mode.add_argument("--probe", action="store_true", help="print what this interpreter can do as JSON")
    mode.add_argument("--bench", metavar="CONFIG", help="time training on synthetic data for this DenseNetConfig (JSON) and print JSON")
    p.add_argument("--batch", type=int, default=64, help="--bench: batch size")
    p.add_argument("--steps", type=int, default=4, help="--bench: timed steps per pass")
    p.add_argument("--warmup", type=int, default=2, help="--bench: untimed steps first")
    p.add_argument("--stats-every", type=int, default=100, help="--bench: the cadence layer stats are charged at")
    p.add_argument("--gradients-every", type=int, default=50, help="--bench: the cadence gradient flow is charged at")
    p.add_argument("--device", choices=["auto", "cuda", "mps", "cpu"], help="override the run's device setting")
    p.add_argument("--precision", choices=["fp32", "bf16", "fp16"], help="override the run's mixed-precision setting")
    p.add_argument("--channels-last", action="store_true", default=None, help="use the channels_last memory format")
    p.add_argument("--threads", type=int, help="CPU threads (default: the CPUs this process may use)")
    p.add_argument("--workers", type=int, help="DataLoader worker processes (default: 0 on CPU, up to 4 on a GPU)")
    args = p.parse_args(argv)
    if args.probe:
        from .probe import main as probe_main
        return probe_main()
    if args.bench:
        import json
        from .bench import run as bench
        result = bench(json.loads(args.bench), args.batch, args.steps, args.warmup, args.threads or 0, args.device or "auto",
                       args.precision or "fp32", bool(args.channels_last), args.stats_every, args.gradients_every)
        print(json.dumps(result))
        return 0
    if args.protocol:
        from .session import run_protocol
        return run_protocol()
    return standalone(args)


def standalone(args) -> int:
    from .distributed import Dist
    from .errors import UserError
    from .run_folder import read_config
    from .checkpoint import list_checkpoints
    from .trainer import RunTrainer
    run = os.path.abspath(args.run)
    dist = Dist()
    dist.init()
    last = [0.0]

    def show(e) -> None:
        # Standalone, the events go to the run's metrics.jsonl; the terminal gets a line now and then.
        kind = e["type"]
        if kind == "step" and time.time() - last[0] > 10:
            last[0] = time.time()
            print(f"epoch {e['epoch'] + 1} step {e['epochStep']}/{e['stepsPerEpoch']} loss {e['loss']:.4f} "
                  f"acc {100 * e['accuracy']:.2f}% {e['imagesPerSec']:.1f} img/s", file=sys.stderr, flush=True)
        elif kind == "epoch":
            val = "–" if e["valAccuracy"] is None else f"{100 * e['valAccuracy']:.2f}%"
            print(f"epoch {e['epoch'] + 1}: loss {e['loss']:.4f}, acc {100 * e['accuracy']:.2f}%, val acc {val}, {e['seconds']:.1f} s",
                  file=sys.stderr, flush=True)
        elif kind == "log" and e["level"] != "debug":
            print(e["message"], file=sys.stderr, flush=True)
        elif kind == "error":
            print(f"error: {e['error']['message']}", file=sys.stderr, flush=True)
        elif kind == "finished":
            print(f"Run {e['runId']} {e['reason']} at epoch {e['epoch']}, step {e['step']}.", file=sys.stderr, flush=True)

    trainer = RunTrainer(show, dist=dist)
    import signal
    signal.signal(signal.SIGTERM, lambda *_: trainer.stop("terminated"))
    signal.signal(signal.SIGINT, lambda *_: trainer.stop("user"))
    try:
        read_config(run)
        fresh = not list_checkpoints(run)
    except UserError as err:
        print(f"python3 -m densenet_torch: {err}", file=sys.stderr)
        return 2
    options = {k: v for k, v in (("device", args.device), ("precision", args.precision), ("channelsLast", args.channels_last),
                                 ("threads", args.threads), ("workers", args.workers)) if v is not None}
    try:
        status = trainer.train(run, fresh=fresh, options=options)
    finally:
        dist.close()
    return {"finished": 0, "stopped": 0, "interrupted": 0}.get(status, 1)


if __name__ == "__main__":
    sys.exit(main())
