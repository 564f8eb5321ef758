"""Parameter counts and the Keras ↔ torch name table of the PyTorch engine's model, per config:
stdin {configs}, stdout [{trainable, total, names: [[keras, torch]]}]."""
import json
import sys

from densenet_torch.model import DenseNet, trainable_parameter_count
from densenet_torch.names import name_table

out = []
for config in json.load(sys.stdin)["configs"]:
    model = DenseNet(config, init=False)
    trainable = trainable_parameter_count(model)
    stats = sum(b.numel() for k, b in model.named_buffers() if k.endswith(("running_mean", "running_var")))
    state = model.state_dict()
    table = name_table(config)
    missing = [k for k in state if not k.endswith("num_batches_tracked") and k not in {r.torch for r in table}]
    out.append({"trainable": trainable, "total": trainable + stats, "names": [[r.keras, r.torch] for r in table], "unmapped": missing})
print(json.dumps(out))
