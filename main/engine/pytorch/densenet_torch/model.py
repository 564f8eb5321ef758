"""DenseNetConfig -> torch.nn.Module, from torchvision's DenseNet building blocks.

The module tree and state-dict keys are torchvision's (`features.conv0`, `features.denseblock1.
denselayer1.conv1`, `features.transition1.conv`, `features.norm5`, `classifier`), so torchvision
weights load as they are, and ./names.py maps every key to the Keras layer names the TF.js engine
(main/engine/model/densenet.ts) and the run folder use. The network itself is the paper's
(Huang et al., "Densely Connected Convolutional Networks", §3), built as the TF.js engine builds it:

  stem       imagenet: conv0 7×7/2 (pad 3), norm0, relu0, pool0 3×3/2 max (pad 1)
             cifar:    conv0 3×3 (pad 1), no BN (the first dense layer starts with BN-ReLU)
  layer      norm1, relu1, [conv1 1×1 → 4k, (drop), norm2, relu2,] conv2 3×3 → k, (drop)
  transition norm, relu, conv 1×1 → ⌊θ·m⌋, (drop), pool 2×2/2 average
  head       norm5, ReLU, global average pool, classifier (Linear, logits)

Porting notes (each also where it is implemented):
- torchvision's DenseNet is always DenseNet-BC with θ = 0.5 and an ImageNet stem. Here B, θ, the
  stem and the block list come from the config; a layer without a bottleneck has norm1 and conv2
  only, so `conv2` is always the layer's k new maps, as `_2_conv` is in Keras.
- Dropout follows every conv but the stem's (paper §4.2), as the TF.js engine places it;
  torchvision drops only after conv2 and never in transitions.
- Batch norm uses Keras' epsilon 1.001e-5 and the TF.js engine's biased moving variance.
- Initialisation follows the TF.js engine: convs from a normal with std √(2/fan_in) truncated at
  2σ (TF.js heNormal), the classifier from Glorot uniform with a zero bias.
"""
import math
from collections import OrderedDict
from typing import Any, List, Mapping

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import densenet as tv

from .config import transition_channels, validate_config

BN_EPSILON = 1.001e-5
#: PyTorch's momentum is the weight of the new value: the TF.js engine's 0.9 is 0.1 here.
BN_MOMENTUM = 0.1


class BiasedVarianceMixin:
    """Makes a torch batch norm's moving variance follow the TF.js engine's update.

    Porting note: PyTorch folds the *unbiased* batch variance s²·n/(n−1) into running_var, tfjs-layers
    (like Keras) the biased s². Both are linear in the batch variance, so the biased update follows
    from the running variance before (rv) and after (rv') PyTorch's own fused update:
    rv* = rv' − (rv' − (1 − m)·rv) / n, with n the values per channel over every process. The fused
    kernel updates copies of the buffers (autograd keeps what it was given), and the buffers are set
    from them: a few C-element operations per layer; training itself is PyTorch's kernel, untouched.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not (self.training and self.track_running_stats) or self.running_var is None:
            return super().forward(x)
        mean, var = self.running_mean, self.running_var
        self.running_mean, self.running_var = mean.clone(), var.clone()
        try:
            out = super().forward(x)
        finally:
            new_mean, new_var = self.running_mean, self.running_var
            self.running_mean, self.running_var = mean, var
        n = x.numel() // x.shape[1] * _sync_factor(self)
        with torch.no_grad():
            mean.copy_(new_mean)
            var.copy_(new_var - (new_var - (1 - self.momentum) * var) / n if n > 1 else new_var)
        return out


class BatchNorm2d(BiasedVarianceMixin, nn.BatchNorm2d):
    """nn.BatchNorm2d with Keras' epsilon and the TF.js engine's moving-variance update."""

    def __init__(self, num_features: int):
        super().__init__(num_features, eps=BN_EPSILON, momentum=BN_MOMENTUM)


def _sync_factor(module: nn.Module) -> int:
    """Processes whose batches one synchronized BN step averages over (1 for a plain BN)."""
    return int(getattr(module, "_world_size", 1))


class DenseLayer(tv._DenseLayer):
    """One dense layer H_ℓ (paper §3, Eq. 2): torchvision's `_DenseLayer`, with B optional and the
    TF.js engine's dropout placement. Its output is its k new feature maps; the block concatenates."""

    def __init__(self, channels_in: int, growth_rate: int, bottleneck: bool, drop_rate: float, memory_efficient: bool):
        super().__init__(channels_in, growth_rate=growth_rate, bn_size=4, drop_rate=drop_rate, memory_efficient=memory_efficient)
        self.bottleneck = bottleneck
        self.norm1 = BatchNorm2d(channels_in)
        if bottleneck:
            self.norm2 = BatchNorm2d(4 * growth_rate)
        else:
            # Without B the 3×3 conv reads the concatenation directly (paper §3, "Composite function").
            del self.conv1, self.norm2, self.relu2
            self.conv2 = nn.Conv2d(channels_in, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)
            self.memory_efficient = False

    def _drop(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, p=self.drop_rate, training=self.training) if self.drop_rate > 0 else x

    def forward(self, input: Any) -> torch.Tensor:  # noqa: A002 - torchvision's signature
        prev = [input] if isinstance(input, torch.Tensor) else input
        if not self.bottleneck:
            return self._drop(self.conv2(self.relu1(self.norm1(torch.cat(prev, 1)))))
        if self.memory_efficient and self.any_requires_grad(prev):
            out = self.call_checkpoint_bottleneck(prev)
        else:
            out = self.bn_function(prev)
        out = self.conv2(self.relu2(self.norm2(self._drop(out))))
        return self._drop(out)


class DenseBlock(tv._DenseBlock):
    """torchvision's `_DenseBlock` (a ModuleDict of `denselayer{i}` concatenating as it goes)."""

    def __init__(self, layers: int, channels_in: int, config: Mapping[str, Any], memory_efficient: bool):
        nn.ModuleDict.__init__(self)
        k = config["growthRate"]
        for i in range(layers):
            self.add_module(f"denselayer{i + 1}", DenseLayer(channels_in + i * k, k, config["bottleneck"], config["dropRate"], memory_efficient))


class Transition(nn.Sequential):
    """Transition (paper §3, "Transition layers"): torchvision's `_Transition` (norm, relu, conv,
    pool) with the compressed width ⌊θ·m⌋ and the optional dropout after its conv."""

    def __init__(self, channels_in: int, channels_out: int, drop_rate: float):
        modules = [
            ("norm", BatchNorm2d(channels_in)),
            ("relu", nn.ReLU(inplace=True)),
            ("conv", nn.Conv2d(channels_in, channels_out, kernel_size=1, stride=1, bias=False)),
        ]
        if drop_rate > 0:
            modules.append(("drop", nn.Dropout(drop_rate)))
        modules.append(("pool", nn.AvgPool2d(kernel_size=2, stride=2)))
        super().__init__(OrderedDict(modules))


class DenseNet(nn.Module):
    """The whole network; `forward` returns logits. `config` is a validated DenseNetConfig dict."""

    def __init__(self, config: Mapping[str, Any], memory_efficient: bool = False, init: bool = True):
        super().__init__()
        config = validate_config(config)
        self.config = dict(config)
        h, w, c = config["inputShape"]
        k0 = config["initFeatures"]
        stem: List = []
        if config["stem"] == "cifar":
            # Paper §3, "Implementation Details": one 3×3 conv; the first dense layer's BN-ReLU follows.
            stem.append(("conv0", nn.Conv2d(c, k0, kernel_size=3, stride=1, padding=1, bias=False)))
        else:
            # Paper Table 1. Porting note: torchvision pads the max-pool with −∞ and Keras with zeros;
            # after the ReLU every value is ≥ 0, so the two give the same maximum.
            stem += [
                ("conv0", nn.Conv2d(c, k0, kernel_size=7, stride=2, padding=3, bias=False)),
                ("norm0", BatchNorm2d(k0)),
                ("relu0", nn.ReLU(inplace=True)),
                ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
            ]
        self.features = nn.Sequential(OrderedDict(stem))
        channels = k0
        blocks = config["blocks"]
        for b, layers in enumerate(blocks):
            self.features.add_module(f"denseblock{b + 1}", DenseBlock(layers, channels, config, memory_efficient))
            channels += layers * config["growthRate"]
            if b < len(blocks) - 1:
                out = transition_channels(channels, config["compression"])
                self.features.add_module(f"transition{b + 1}", Transition(channels, out, config["dropRate"]))
                channels = out
        self.features.add_module("norm5", BatchNorm2d(channels))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, config["classes"])
        if init:  # False when weights are loaded next (a checkpoint), or only the structure is needed
            self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                # TF.js heNormal: a normal of std √(2/fan_in), redrawn outside 2σ.
                fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
                std = math.sqrt(2.0 / fan_in)
                nn.init.trunc_normal_(m.weight, 0.0, std, -2 * std, 2 * std)
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_parameters()
            elif isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.features(x))
        return self.classifier(torch.flatten(self.pool(y), 1))


def trainable_parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def freeze_features(model: DenseNet) -> None:
    """Fine-tuning with frozen features (`import --freeze-features`): only the classifier trains.

    Porting note: as in Keras (≥ 2.1.3) and the TF.js engine, a frozen batch-norm layer runs in
    inference mode, normalizing with its moving statistics and leaving them alone; torch would
    otherwise keep updating them in train mode, so `train()` puts the features' BN back in eval.
    """
    for name, p in model.named_parameters():
        p.requires_grad_(name.startswith("classifier."))
    model.frozen_features = True
    model.train(model.training)


def _train(self: DenseNet, mode: bool = True) -> DenseNet:
    nn.Module.train(self, mode)
    if getattr(self, "frozen_features", False):
        for m in self.features.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.eval()
    return self


DenseNet.train = _train  # type: ignore[method-assign]
