#!/usr/bin/env python3
"""PyTorch side of `npm run bench:compare`: the same DenseNet and training recipe as
`densenet-workbench bench`, timed the same way, printed as one JSON object with the same fields.

Architecture: torchvision's DenseNet (growth rate, block config, init features, bottleneck width
4k, compression 0.5). For a `cifar` stem, torchvision's 7x7/2 conv + BN + ReLU + max-pool is
replaced by the paper's single 3x3 conv (§3, "Implementation Details"), as the workbench builds it.
Recipe (paper §4.2): softmax cross-entropy, SGD with Nesterov momentum 0.9, weight decay 1e-4,
synthetic data, `--threads` intra-op threads.

Needs Debian's python3-torch and python3-torchvision (`apt-get install -y python3-torch
python3-torchvision`), run with /usr/bin/python3.
"""
import argparse
import json
import os
import platform
import re
import sys
import time


def fail(message, code=3):
    print(json.dumps({"error": message}))
    sys.exit(code)


try:
    import torch
    import torch.nn as nn
    import torchvision
    from torchvision.models.densenet import DenseNet
except ImportError as exc:  # a clear line instead of a traceback: the compare script shows it
    fail(f"PyTorch is not installed for {sys.executable} ({exc}); on Debian run "
         "`apt-get update && apt-get install -y python3-torch python3-torchvision` and use /usr/bin/python3.")


def vm_hwm_bytes():
    """Peak resident set size from /proc (Linux), else None."""
    try:
        with open("/proc/self/status") as f:
            m = re.search(r"^VmHWM:\s+(\d+)\s+kB", f.read(), re.M)
            return int(m.group(1)) * 1024 if m else None
    except OSError:
        return None


def rss_bytes():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


class RssSampler:
    """Largest RSS seen between steps, sampled on the main thread as the Node side does.

    Porting note: a sampling thread would be more thorough, but on a 2-core machine any extra
    runnable thread stalls OpenMP's barriers and slowed training 3-4x in our runs; VmHWM (the
    kernel's own high-water mark, reported beside it) is the exact peak anyway.
    """

    def __init__(self):
        self.peak = rss_bytes()

    def sample(self):
        self.peak = max(self.peak, rss_bytes())


def build(config):
    if not config["bottleneck"]:
        fail("torchvision's DenseNet always has bottleneck layers; compare a DenseNet-BC variant.", 2)
    if abs(config["compression"] - 0.5) > 1e-9:
        fail(f"torchvision's DenseNet halves channels in transitions (θ=0.5); got θ={config['compression']}.", 2)
    model = DenseNet(growth_rate=config["growthRate"], block_config=tuple(config["blocks"]),
                     num_init_features=config["initFeatures"], bn_size=4, drop_rate=config.get("dropRate", 0),
                     num_classes=config["classes"])
    channels = config["inputShape"][2]
    if config["stem"] == "cifar":
        model.features.conv0 = nn.Conv2d(channels, config["initFeatures"], 3, padding=1, bias=False)
        model.features.norm0 = nn.Identity()
        model.features.relu0 = nn.Identity()
        model.features.pool0 = nn.Identity()
    elif channels != 3:
        model.features.conv0 = nn.Conv2d(channels, config["initFeatures"], 7, stride=2, padding=3, bias=False)
    return model


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--config", required=True, help="DenseNetConfig as JSON (what `bench --json` prints)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    args = p.parse_args()
    config = json.loads(args.config)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    model = build(config)
    h, w, c = config["inputShape"]
    x = torch.randn(args.batch, c, h, w)
    y = torch.randint(0, config["classes"], (args.batch,))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
    loss_fn = nn.CrossEntropyLoss()

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    sampler = RssSampler()
    model.train()
    for i in range(args.warmup):
        t0 = time.perf_counter()
        train_step()
        sampler.sample()
        print(f"  warmup {i + 1}: {1000 * (time.perf_counter() - t0):.0f} ms", file=sys.stderr, flush=True)
    train_s = 0.0
    loss = None
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss = train_step()
        train_s += time.perf_counter() - t0
        sampler.sample()
        print(f"  train: {1000 * (time.perf_counter() - t0):.0f} ms", file=sys.stderr, flush=True)

    model.eval()
    with torch.no_grad():
        for _ in range(max(1, args.warmup)):
            model(x)
        fwd_s = 0.0
        for _ in range(args.steps):
            t0 = time.perf_counter()
            model(x).sum().item()
            fwd_s += time.perf_counter() - t0
            sampler.sample()

    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(json.dumps({
        "engine": "pytorch",
        "version": torch.__version__,
        "torchvision": torchvision.__version__,
        "device": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "variant": config.get("variant"),
        "batch": args.batch,
        "steps": args.steps,
        "warmup": args.warmup,
        "parameters": params,
        "trainImagesPerSec": args.batch * args.steps / train_s,
        "trainStepMs": 1000 * train_s / args.steps,
        "forwardImagesPerSec": args.batch * args.steps / fwd_s,
        "peakRssBytes": sampler.peak,
        "vmHwmBytes": vm_hwm_bytes(),
        "finalLoss": loss,
    }))


if __name__ == "__main__":
    main()
