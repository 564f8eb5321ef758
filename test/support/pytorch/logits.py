"""Logits of a run's checkpoint on its validation split, computed by the PyTorch engine's model:
stdin {run, checkpoint}, stdout {name, logits: [[...]], labels}."""
import json
import sys

import torch

from densenet_torch.checkpoint import load_checkpoint
from densenet_torch.data import DatasetCache, TrainData
from densenet_torch.model import DenseNet
from densenet_torch.run_folder import read_config
from densenet_torch.weights import load_weights

spec = json.load(sys.stdin)
config = read_config(spec["run"])
model = DenseNet(config["model"])
ckpt = load_checkpoint(spec["run"], spec.get("checkpoint", "latest"))
load_weights(model, config["model"], ckpt["weights"])
model.eval()
plan = TrainData(DatasetCache(spec["run"]), config["settings"], config["normalization"]).val_plan()
logits, labels = [], []
with torch.no_grad():
    for b in range(plan.count):
        batch = plan.batch(b)
        logits += model(torch.from_numpy(batch.x).permute(0, 3, 1, 2).contiguous()).tolist()
        labels += batch.y.tolist()
print(json.dumps({"name": ckpt["manifest"]["name"], "logits": logits, "labels": labels}))
