"""Judges protocol messages with the PyTorch engine's validators: stdin {cases: [{schema, value}]},
stdout {subset: [error or null], jsonschema: [error or null] or null}."""
import json
import sys

from densenet_torch.schema import ProtocolSchemas

cases = json.load(sys.stdin)["cases"]
subset = ProtocolSchemas(prefer_jsonschema=False)
out = {"subset": [subset.error(c["schema"], c["value"]) for c in cases], "jsonschema": None}
full = ProtocolSchemas()
if full.engine != "subset":
    out["jsonschema"] = [full.error(c["schema"], c["value"]) for c in cases]
print(json.dumps(out))
