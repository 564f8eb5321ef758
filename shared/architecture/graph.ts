/**
 * The dense connectivity graph (paper §3, Eq. 2 and Fig. 1), computed from the config alone.
 *
 * Nodes are the units that add feature maps to a concatenation, and the units that consume one:
 *   - `conv1`           the stem; its output starts dense block 1.
 *   - `conv{b+1}_block{i}` dense layer i of block b (H_ℓ in the paper); it adds k maps.
 *   - `pool{b+1}`       the transition after block b; consumes block b, starts block b+1.
 *   - `predictions`     the classifier (bn, relu, avg_pool, predictions); consumes the last block.
 * Node ids are the Keras layer-name prefixes, so `layers` of a node are the model's layers.
 *
 * Edges: one per (source → consumer) pair inside a concatenation. In block b with n dense layers,
 * the sources are the block input x0 (stem or previous transition) and layers 1..n; the consumers
 * are layers 1..n and the transition (or classifier) after the block. Consumer j (1-based) reads
 * the j sources before it, so a block has 1 + 2 + … + (n+1) = ℓ(ℓ+1)/2 edges with ℓ = n+1
 * consumers: the paper's L(L+1)/2 "direct connections", counting the transition as the block's
 * last layer as Fig. 1 and Fig. 5 do.
 *
 * Channel ranges: Keras concatenates [x, new] on the channel axis, so a consumer's input is
 * x0's channels, then layer 1's k channels, then layer 2's, …. Each edge carries the slice
 * [start, end) of the consumer's input channels that comes from its source; a consumer's edges
 * tile [0, inputChannels) in source order. The consumer's `weightLayer` is the first conv/Dense
 * reading that input, so its kernel's input axis (the second-to-last) is indexed by these ranges:
 * this is what the Fig. 5 contribution heat map averages.
 */
import type { DenseNetConfig } from '../config';
import { assertValidConfig } from '../validation';
import { layerTable, type LayerSummary } from './layers';

export type GraphNodeKind = 'stem' | 'dense' | 'transition' | 'classifier';

export interface ChannelRange {
  /** Source node id. */
  source: string;
  /** Input channels [start, end) of the consumer that come from `source`. */
  start: number;
  end: number;
}

export interface GraphNode {
  /** Keras name prefix: `conv1`, `conv2_block1`, `pool2`, `predictions`. */
  id: string;
  kind: GraphNodeKind;
  /** Human label, e.g. `Block 1 · layer 3`. */
  label: string;
  /** Dense block the node belongs to: 0 for the stem; b for block b's layers, the transition after b, and (last block) the classifier. */
  block: number;
  /** Position in its block: 0 for the stem, 1..n for dense layers, n+1 for the transition or classifier. */
  index: number;
  /** Volume this node adds or produces: [H, W, k] for a dense layer, [H, W, C] for stem and transition, [classes] for the classifier. */
  volume: number[];
  /** Channels of the concatenated input it reads (the image's channels for the stem). */
  inputChannels: number;
  /** Where each slice of its input comes from, tiling [0, inputChannels) in order; [] for the stem. */
  inputs: ChannelRange[];
  /** The first conv or Dense reading the concatenated input (`conv2_block1_1_conv`, `pool2_conv`, `predictions`; `conv1_conv` for the stem). */
  weightLayer: string;
  /** The layer whose output is this node's contribution to the next concatenation (`conv2_block1_2_conv` or its `_2_drop`, `pool2_pool`, `pool1`). */
  outputLayer: string;
  /** All model layers of this node, in build order. */
  layers: string[];
}

export interface GraphEdge {
  source: string;
  target: string;
  /** The dense block whose concatenation this edge is part of. */
  block: number;
  /** Target input channels [start, end) coming from the source. */
  start: number;
  end: number;
}

export interface GraphBlock {
  index: number;
  /** Row order of Fig. 5: the block input, then layers 1..n. */
  sources: string[];
  /** Column order of Fig. 5: layers 1..n, then the transition or classifier. */
  targets: string[];
}

export interface ConnectivityGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  blocks: GraphBlock[];
}

function groupLayers(layers: LayerSummary[]): Map<string, LayerSummary[]> {
  const groups = new Map<string, LayerSummary[]>();
  for (const l of layers) {
    if (l.group === null) continue;
    const list = groups.get(l.group) ?? [];
    list.push(l);
    groups.set(l.group, list);
  }
  return groups;
}

/** The connectivity graph of a config. Throws a user WorkbenchError listing every problem if it is invalid. */
export function connectivityGraph(config: DenseNetConfig): ConnectivityGraph {
  const valid = assertValidConfig(config);
  const groups = groupLayers(layerTable(valid));
  const members = (id: string) => groups.get(id) as LayerSummary[];
  const firstOfKind = (id: string, kind: LayerSummary['kind']) => (members(id).find((l) => l.kind === kind) as LayerSummary).name;

  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const blocks: GraphBlock[] = [];

  const stemLayers = members('conv1');
  const stemOut = stemLayers[stemLayers.length - 1];
  nodes.push({
    id: 'conv1', kind: 'stem', label: 'Stem', block: 0, index: 0,
    volume: [...stemOut.outputShape], inputChannels: valid.inputShape[2], inputs: [],
    weightLayer: 'conv1_conv', outputLayer: stemOut.name, layers: stemLayers.map((l) => l.name),
  });

  let blockInput = 'conv1';
  valid.blocks.forEach((count, b) => {
    const block = b + 1;
    // Sources in concatenation order, with their channel counts.
    const inputVolume = nodes[nodes.length - 1].volume;
    const sources: { id: string; channels: number }[] = [{ id: blockInput, channels: inputVolume[inputVolume.length - 1] }];
    const targets: string[] = [];
    const consume = (node: Omit<GraphNode, 'inputs' | 'inputChannels'>) => {
      let start = 0;
      const inputs: ChannelRange[] = sources.map((s) => {
        const range = { source: s.id, start, end: start + s.channels };
        start = range.end;
        edges.push({ source: s.id, target: node.id, block, start: range.start, end: range.end });
        return range;
      });
      nodes.push({ ...node, inputChannels: start, inputs });
      targets.push(node.id);
    };

    for (let i = 1; i <= count; i++) {
      const id = `conv${block + 1}_block${i}`;
      const layers = members(id);
      // The last layer is the `_concat`; the one before it holds the layer's k new maps.
      const output = layers[layers.length - 2];
      consume({
        id, kind: 'dense', label: `Block ${block} · layer ${i}`, block, index: i,
        volume: [...output.outputShape], weightLayer: firstOfKind(id, 'conv'), outputLayer: output.name,
        layers: layers.map((l) => l.name),
      });
      sources.push({ id, channels: valid.growthRate });
    }

    const last = b === valid.blocks.length - 1;
    const id = last ? 'predictions' : `pool${block + 1}`;
    const layers = members(id);
    const output = layers[layers.length - 1];
    consume({
      id, kind: last ? 'classifier' : 'transition', label: last ? 'Classifier' : `Transition ${block}`, block, index: count + 1,
      volume: [...output.outputShape], weightLayer: firstOfKind(id, last ? 'dense' : 'conv'), outputLayer: output.name,
      layers: layers.map((l) => l.name),
    });
    blocks.push({ index: block, sources: sources.map((s) => s.id), targets });
    blockInput = id;
  });

  return { nodes, edges, blocks };
}
