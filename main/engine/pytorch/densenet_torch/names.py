"""Keras layer names ↔ torchvision state-dict keys, both ways.

The run folder keys every weight by its Keras name (`conv2_block1_1_conv/kernel`, in Keras layout),
which is what the TF.js engine, eval, export and inspection read; this engine trains with
torchvision's module tree. The table is the one in main/engine/model/torchvision.ts and
docs/architecture.md:

  conv1_conv/kernel                 features.conv0.weight                          OIHW→HWIO
  conv1_bn/…                        features.norm0.{weight,bias,running_mean,running_var}
  conv{b+1}_block{i}_0_bn/…         features.denseblock{b}.denselayer{i}.norm1.*
  conv{b+1}_block{i}_1_conv/kernel  features.denseblock{b}.denselayer{i}.conv1.weight  OIHW→HWIO
  conv{b+1}_block{i}_1_bn/…         features.denseblock{b}.denselayer{i}.norm2.*
  conv{b+1}_block{i}_2_conv/kernel  features.denseblock{b}.denselayer{i}.conv2.weight  OIHW→HWIO
  pool{b+1}_bn/…, pool{b+1}_conv    features.transition{b}.norm.*, .conv.weight
  bn/…                              features.norm5.*
  predictions/kernel, /bias         classifier.weight (OI→IO), classifier.bias

BN weights map gamma→weight, beta→bias, moving_mean→running_mean, moving_variance→running_var;
`num_batches_tracked` has no Keras counterpart and is not stored.
Porting note: torchvision has no dense layer without a bottleneck; for those configs this table
extends its scheme (norm1 and conv2 only), which ./model.py builds.
"""
from typing import Any, Dict, List, Mapping, NamedTuple

import torch

BN_WEIGHTS = (("gamma", "weight"), ("beta", "bias"), ("moving_mean", "running_mean"), ("moving_variance", "running_var"))


class NameRow(NamedTuple):
    keras: str  # e.g. conv2_block1_1_conv/kernel
    torch: str  # e.g. features.denseblock1.denselayer1.conv1.weight
    layout: str  # 'OIHW->HWIO' | 'OI->IO' | 'same'
    trainable: bool


def _bn(keras: str, torch_prefix: str) -> List[NameRow]:
    return [NameRow(f"{keras}/{w}", f"{torch_prefix}.{s}", "same", w in ("gamma", "beta")) for w, s in BN_WEIGHTS]


def _conv(keras: str, torch_prefix: str) -> NameRow:
    return NameRow(f"{keras}/kernel", f"{torch_prefix}.weight", "OIHW->HWIO", True)


def name_table(config: Mapping[str, Any]) -> List[NameRow]:
    rows = [_conv("conv1_conv", "features.conv0")]
    if config["stem"] == "imagenet":
        rows += _bn("conv1_bn", "features.norm0")
    blocks = config["blocks"]
    for b0, layers in enumerate(blocks):
        b = b0 + 1
        for i in range(1, layers + 1):
            keras = f"conv{b + 1}_block{i}"
            tv = f"features.denseblock{b}.denselayer{i}"
            rows += _bn(f"{keras}_0_bn", f"{tv}.norm1")
            if config["bottleneck"]:
                rows += [_conv(f"{keras}_1_conv", f"{tv}.conv1"), *_bn(f"{keras}_1_bn", f"{tv}.norm2")]
            rows.append(_conv(f"{keras}_2_conv", f"{tv}.conv2"))
        if b < len(blocks):
            rows += [*_bn(f"pool{b + 1}_bn", f"features.transition{b}.norm"), _conv(f"pool{b + 1}_conv", f"features.transition{b}.conv")]
    rows += _bn("bn", "features.norm5")
    rows += [NameRow("predictions/kernel", "classifier.weight", "OI->IO", True), NameRow("predictions/bias", "classifier.bias", "same", True)]
    return rows


def to_keras(t: torch.Tensor, layout: str) -> torch.Tensor:
    """A torch tensor in the Keras layout, as a contiguous float32 CPU tensor."""
    t = t.detach().to("cpu", torch.float32)
    if layout == "OIHW->HWIO":
        t = t.permute(2, 3, 1, 0)
    elif layout == "OI->IO":
        t = t.t()
    return t.contiguous()


def from_keras(t: torch.Tensor, layout: str) -> torch.Tensor:
    if layout == "OIHW->HWIO":
        return t.permute(3, 2, 0, 1).contiguous()
    if layout == "OI->IO":
        return t.t().contiguous()
    return t


def keras_shape(torch_shape: List[int], layout: str) -> List[int]:
    if layout == "OIHW->HWIO":
        o, i, h, w = torch_shape
        return [h, w, i, o]
    if layout == "OI->IO":
        return [torch_shape[1], torch_shape[0]]
    return list(torch_shape)


def kernel_layer(keras_weight: str) -> str:
    """`conv2_block1_1_conv/kernel` → `conv2_block1_1_conv`."""
    return keras_weight.rsplit("/", 1)[0]


def rows_by_torch(config: Mapping[str, Any]) -> Dict[str, NameRow]:
    return {r.torch: r for r in name_table(config)}
