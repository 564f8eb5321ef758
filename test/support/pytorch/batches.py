"""The training batches of a prepared run's first epochs, and its validation batches, exactly as
the PyTorch engine draws them: stdin {run, epochs}, stdout {epochs: [[{x (base64 float32), y}]], val}."""
import base64
import json
import sys

from densenet_torch.data import DatasetCache, TrainData
from densenet_torch.run_folder import read_config

spec = json.load(sys.stdin)
config = read_config(spec["run"])
data = TrainData(DatasetCache(spec["run"]), config["settings"], config["normalization"])
enc = lambda b: {"x": base64.b64encode(b.x.astype("<f4").tobytes()).decode(), "y": b.y.tolist(), "n": b.n}  # noqa: E731
epochs = []
for _ in range(spec["epochs"]):
    plan = data.epoch_plan()
    epochs.append([enc(plan.batch(b)) for b in range(plan.count)])
val = data.val_plan()
print(json.dumps({"stepsPerEpoch": data.steps_per_epoch, "epochs": epochs, "val": [enc(val.batch(b)) for b in range(val.count)] if val else []}))
