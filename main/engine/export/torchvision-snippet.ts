import type { DenseNetConfig } from '../../../shared/config';

/**
 * `load_densenet.py`, written beside a torchvision export: builds the run's DenseNet from
 * torchvision's own classes (`DenseNet`, `_DenseBlock`, `_Transition`) and loads
 * `model.safetensors` into it. torchvision only builds DenseNet-BC with an ImageNet stem, θ = 0.5
 * and 3-channel input, so the snippet assembles `features` itself from the run's config, under
 * torchvision's module names: the CIFAR stem (one 3×3 conv), any θ, any input channels, and dense
 * layers without a bottleneck (norm1 and conv2 only, the names ../model/torchvision.ts gives them).
 * It needs only torch and torchvision (safetensors and Pillow when present), and torch ≥ 1.10 for
 * `torch.frombuffer`.
 */
export const SNIPPET_FILE = 'load_densenet.py';

export function torchvisionSnippet(config: DenseNetConfig, classes: string[]): string {
  const configJson = JSON.stringify(config);
  return `"""${config.variant} (${config.blocks.join('-')}, k=${config.growthRate}, ${classes.length} classes) from DenseNet Workbench, as a torchvision DenseNet.

Written by \`densenet-workbench export RUN --format torchvision\`: model.safetensors holds the run's
weights under torchvision's state-dict names, preprocessing.json says how images are fed.

    python3 load_densenet.py IMAGE [IMAGE ...]     # prints each image's top classes

    from load_densenet import load
    model = load()                                 # torchvision DenseNet in eval mode; logits out

Needs torch and torchvision (safetensors and Pillow are used when installed).
"""
import json
import math
import os
import struct
import sys
from collections import OrderedDict

import torch
from torch import nn
from torchvision.models.densenet import DenseNet, _DenseBlock, _Transition

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = json.loads(${pythonString(configJson)})


class PlainDenseLayer(nn.Module):
    """A dense layer without a bottleneck (the paper's DenseNet without B): BN-ReLU-3x3 conv.
    torchvision has no such layer; its only BN is norm1 and its only conv conv2."""

    def __init__(self, channels_in, growth_rate, drop_rate):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(channels_in)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(channels_in, growth_rate, kernel_size=3, stride=1, padding=1, bias=False)
        self.drop_rate = drop_rate

    def forward(self, inputs):
        x = torch.cat(inputs, 1) if isinstance(inputs, (list, tuple)) else inputs
        y = self.conv2(self.relu1(self.norm1(x)))
        return nn.functional.dropout(y, p=self.drop_rate, training=self.training) if self.drop_rate > 0 else y


def build(config=CONFIG):
    """torchvision's DenseNet with the run's architecture; its features are assembled here so the
    stem, θ, the input channels and B can differ from torchvision's DenseNet-BC."""
    k, blocks, c0, drop = config["growthRate"], config["blocks"], config["initFeatures"], config["dropRate"]
    channels = config["inputShape"][2]
    model = DenseNet(growth_rate=k, block_config=tuple(blocks), num_init_features=c0, bn_size=4, drop_rate=drop, num_classes=config["classes"])
    features = OrderedDict()
    if config["stem"] == "cifar":
        # The paper's CIFAR stem (section 3): one 3x3 conv; the first dense layer's BN-ReLU follows.
        features["conv0"] = nn.Conv2d(channels, c0, kernel_size=3, stride=1, padding=1, bias=False)
    else:
        features["conv0"] = nn.Conv2d(channels, c0, kernel_size=7, stride=2, padding=3, bias=False)
        features["norm0"] = nn.BatchNorm2d(c0)
        features["relu0"] = nn.ReLU(inplace=True)
        features["pool0"] = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
    c = c0
    for b, layers in enumerate(blocks):
        block = _DenseBlock(num_layers=layers, num_input_features=c, bn_size=4, growth_rate=k, drop_rate=drop)
        if not config["bottleneck"]:
            for i in range(layers):
                setattr(block, f"denselayer{i + 1}", PlainDenseLayer(c + i * k, k, drop))
        features[f"denseblock{b + 1}"] = block
        c += layers * k
        if b < len(blocks) - 1:
            out = math.floor(c * config["compression"])  # the paper's compression: floor(theta * m)
            features[f"transition{b + 1}"] = _Transition(num_input_features=c, num_output_features=out)
            c = out
    features["norm5"] = nn.BatchNorm2d(c)
    model.features = nn.Sequential(features)
    model.classifier = nn.Linear(c, config["classes"])
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps = 1.001e-5  # the workbench's (Keras') epsilon; torchvision's default is 1e-5
    return model


def read_safetensors(path):
    """A float32 safetensors file as a state dict (8-byte header length, JSON header, raw data)."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        load_file = None
    if load_file is not None:
        return load_file(path)
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    start = 8 + n
    state = OrderedDict()
    for name, t in header.items():
        if name == "__metadata__":
            continue
        assert t["dtype"] == "F32", f"{name}: expected F32, got {t['dtype']}"
        begin, end = t["data_offsets"]
        state[name] = torch.frombuffer(bytearray(data[start + begin:start + end]), dtype=torch.float32).reshape(t["shape"])
    return state


def load(weights=os.path.join(HERE, "model.safetensors")):
    model = build()
    model.load_state_dict(read_safetensors(weights))
    return model.eval()


def preprocess(path, pre):
    """An image file as the model's input [1, C, H, W], as preprocessing.json says: resized to
    exactly H x W, scaled to [0, 1], then normalized per channel."""
    from PIL import Image
    from torchvision.transforms.functional import to_tensor

    h, w, c = CONFIG["inputShape"]
    image = Image.open(path).convert("L" if c == 1 else "RGB").resize((w, h), Image.BILINEAR)
    x = to_tensor(image)
    norm = pre["normalization"]
    if norm:
        x = (x - torch.tensor(norm["mean"]).view(-1, 1, 1)) / torch.tensor(norm["std"]).view(-1, 1, 1)
    return x.unsqueeze(0)


if __name__ == "__main__":
    with open(os.path.join(HERE, "preprocessing.json")) as f:
        pre = json.load(f)
    model = load()
    with torch.no_grad():
        for path in sys.argv[1:]:
            probs = torch.softmax(model(preprocess(path, pre)), dim=1)[0]
            top = torch.topk(probs, min(5, probs.numel()))
            print(path + ": " + ", ".join(f"{pre['classes'][i]} {p:.1%}" for p, i in zip(top.values.tolist(), top.indices.tolist())))
`;
}

/** A Python string literal holding `text` exactly (JSON string escapes are valid Python ones). */
function pythonString(text: string): string {
  return JSON.stringify(text);
}
