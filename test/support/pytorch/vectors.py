"""Computes, with the PyTorch engine's ports, what test/integration/pytorch/parity.test.ts computes
with the TF.js engine: random streams, seed derivation, shuffles and learning-rate schedules."""
import json
import sys

from densenet_torch.rng import Rng, derive_seed, shuffle_in_place
from densenet_torch.schedules import learning_rate_at

spec = json.load(sys.stdin)
out = {"streams": [], "derived": [], "shuffles": [], "schedules": []}
for seed in spec["seeds"]:
    r = Rng(seed)
    out["streams"].append({"uint32": [r.next_uint32() for _ in range(5)], "ints": [r.int(n) for n in spec["ints"]],
                           "floats": [r.next() for _ in range(3)], "state": r.get_state()})
for parts in spec["derive"]:
    out["derived"].append(derive_seed(*parts))
for n, seed in spec["shuffles"]:
    out["shuffles"].append(shuffle_in_place(list(range(n)), Rng(seed)))
for case in spec["schedules"]:
    out["schedules"].append([learning_rate_at(s, case["stepsPerEpoch"], case["settings"]) for s in range(case["steps"])])
print(json.dumps(out))
