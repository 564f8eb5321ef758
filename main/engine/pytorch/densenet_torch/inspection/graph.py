"""Where the inspectors look, read off the dense connectivity (paper §3, Eq. 2; Fig. 1) as
shared/architecture/graph.ts defines it, with each node tied to its torch module:

  conv1                 the stem; probed at its output (conv0, or pool0 with the ImageNet stem)
  conv{b+1}_block{i}    dense layer i of block b; probed at its k new maps (the layer's output)
  pool{b+1}             the transition after block b; probed at its output
  predictions           the classifier; probed at its input (the global pool's output)

Per block, Fig. 5's rows are the block input then layers 1..n, its columns layers 1..n then the
transition or classifier; column j reads the channel ranges of the j sources before it, in
concatenation order, through its first weight layer (`_1_conv`, or `_2_conv` without B,
`pool{b+1}_conv`, `predictions`).
"""
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Tuple

from ..config import transition_channels


@dataclass
class Node:
    id: str
    kind: str  # stem | dense | transition | classifier
    block: int
    module: str  # torch module path whose output (or, for the classifier, input) is probed
    weight_module: str  # the first conv / Linear reading the node's input
    inputs: List[Tuple[int, int, int]] = field(default_factory=list)  # (source row, start, end)


@dataclass
class BlockSpec:
    index: int
    sources: List[str]
    targets: List[str]


def graph(config: Mapping[str, Any]) -> Tuple[List[Node], List[BlockSpec]]:
    k = config["growthRate"]
    nodes = [Node("conv1", "stem", 0, "features.conv0" if config["stem"] == "cifar" else "features.pool0", "features.conv0")]
    blocks: List[BlockSpec] = []
    channels = config["initFeatures"]
    block_input = "conv1"
    n_blocks = len(config["blocks"])
    for b0, count in enumerate(config["blocks"]):
        b = b0 + 1
        sources: List[Tuple[str, int]] = [(block_input, channels)]
        targets: List[str] = []

        def consume(node: Node) -> None:
            start = 0
            for row, (_, width) in enumerate(sources):
                node.inputs.append((row, start, start + width))
                start += width
            nodes.append(node)
            targets.append(node.id)

        for i in range(1, count + 1):
            layer = f"features.denseblock{b}.denselayer{i}"
            consume(Node(f"conv{b + 1}_block{i}", "dense", b, layer, f"{layer}.conv1" if config["bottleneck"] else f"{layer}.conv2"))
            sources.append((f"conv{b + 1}_block{i}", k))
        channels += count * k
        if b < n_blocks:
            node_id = f"pool{b + 1}"
            consume(Node(node_id, "transition", b, f"features.transition{b}", f"features.transition{b}.conv"))
            channels = transition_channels(channels, config["compression"])
        else:
            node_id = "predictions"
            consume(Node(node_id, "classifier", b, "classifier", "classifier"))
        blocks.append(BlockSpec(b, [s for s, _ in sources], targets))
        block_input = node_id
    return nodes, blocks


def ablation_targets(nodes: List[Node]) -> List[Tuple[str, str]]:
    """(node id, the conv making its k new maps): what layer ablation zeroes."""
    return [(n.id, f"{n.module}.conv2") for n in nodes if n.kind == "dense"]
