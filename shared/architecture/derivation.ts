/**
 * How every volume of a DenseNet follows from its config, two levels deep, as the classic
 * DenseNet-121 walk-throughs draw it:
 *   - stage by stage: the stem gives k0 maps; dense block b hands on k0 + k·ℓ; a transition keeps
 *     ⌊θ·m⌋ of its m maps and halves H and W;
 *   - inside the units: a dense layer is BN-ReLU-1×1 conv to 4k maps (with B), BN-ReLU-3×3 conv to
 *     k maps, concatenated onto its input (paper §3, "Dense connectivity", "Bottleneck layers",
 *     Eq. 2); a transition is BN-ReLU-1×1 conv to ⌊θ·m⌋ maps, then 2×2 average pool with stride 2
 *     ("Transition layers", "Compression").
 * Every step names the Keras layer whose output it is, so a test holds each shape against
 * ./layers.ts (which is itself held against the built model). Pure TS, shared by the
 * `summary` command and the renderer.
 */
import type { DenseNetConfig } from '../config';
import { assertValidConfig } from '../validation';
import { blockChannels, blockSizes, stemOutSize, transitionChannels } from './shapes';

export type SchematicKind = 'stem' | 'dense-layer' | 'block' | 'transition' | 'classifier';

export interface SchematicStep {
  /** What this step does, e.g. `BN, ReLU, 1×1 conv`; `input` for the volume going in. */
  op: string;
  /** The Keras layer whose output this volume is (`conv2_block1_1_conv`); for `input`, the layer feeding the unit. */
  layer: string;
  /** [H, W, C], or [C] after global pooling. */
  shape: number[];
  /** The channel count in the config's terms, e.g. `64 + 32·l`, `⌊θ·m⌋`, `4·k`. */
  formula: string;
  /** The same with this volume's numbers: `64 + 32·6 = 256`, `⌊0.5·256⌋ = 128`. */
  value: string;
  /** How H and W follow, when this step changes them: `⌊56/2⌋ = 28`, `⌈224/2⌉ = 112`. */
  spatial?: string;
}

export interface Schematic {
  kind: SchematicKind;
  /** `Dense block 1 · layer 3`, `Transition 2`, ... */
  title: string;
  /** One sentence: what the unit does and where it comes from in the paper. */
  description: string;
  /** The volume going in, then each step's output; the last step is the unit's output. */
  steps: SchematicStep[];
}

/** A stage of the summary's table with its derivation, for `summary` and the New-run table. */
export interface StageDerivation {
  /** Channels: `64 + 32·6 = 256`. */
  channels: string;
  /** Height and width, when the stage changes them: `⌊56/2⌋ = 28`. */
  spatial?: string;
}

const dot = (a: number | string, b: number | string) => `${a}·${b}`;
const num = (x: number) => String(x);

/** The shape helpers of one config: sizes and channels at every stage. */
function geometry(config: DenseNetConfig) {
  const [h, w] = config.inputShape;
  const heights = blockSizes(h, config.stem, config.blocks.length);
  const widths = blockSizes(w, config.stem, config.blocks.length);
  const { channelsIn, channelsOut } = blockChannels(config);
  /** [H, W] of block b (1-based). */
  const hw = (b: number): [number, number] => [heights[b - 1], widths[b - 1]];
  /** `56` for a square volume, `56×40` otherwise, for spatial derivations. */
  const side = (b: number) => (heights[b - 1] === widths[b - 1] ? `${heights[b - 1]}` : `${heights[b - 1]}×${widths[b - 1]}`);
  return { hw, side, channelsIn, channelsOut };
}

/** What block b's input is called in formulas, and its Keras layer. */
function blockInput(config: DenseNetConfig, block: number): { layer: string; value: string } {
  if (block === 1) return { layer: config.stem === 'imagenet' ? 'pool1' : 'conv1_conv', value: `k0 = ${config.initFeatures}` };
  const { channelsOut } = geometry(config);
  const m = channelsOut[block - 2];
  return { layer: `pool${block}_pool`, value: `⌊${dot(config.compression, m)}⌋ = ${transitionChannels(m, config.compression)}` };
}

/** `c0 + k·l` with the config's numbers, and its value at l. */
function concatFormula(c0: number, k: number, l: number | string): string {
  return `${c0} + ${dot(k, l)}`;
}

function dropNote(config: DenseNetConfig): string {
  return config.dropRate > 0 ? ` (dropout ${config.dropRate} after it)` : '';
}

export function stemSchematic(config: DenseNetConfig): Schematic {
  const valid = assertValidConfig(config);
  const [h, w, c] = valid.inputShape;
  const k0 = valid.initFeatures;
  const channels = `${c} (${c === 1 ? 'grayscale' : 'RGB'})`;
  const input: SchematicStep = { op: 'input image', layer: 'input_1', shape: [h, w, c], formula: channels, value: channels };
  if (valid.stem === 'cifar') {
    return {
      kind: 'stem', title: 'Stem',
      description: 'One 3×3 convolution to k0 maps, size unchanged (paper §3, "Implementation Details", CIFAR).',
      steps: [input, { op: '3×3 conv', layer: 'conv1_conv', shape: [h, w, k0], formula: 'k0', value: `k0 = ${k0}` }],
    };
  }
  const ch = Math.ceil(h / 2);
  const cw = Math.ceil(w / 2);
  const ph = stemOutSize(h, 'imagenet');
  const pw = stemOutSize(w, 'imagenet');
  const sides = (a: number, b: number) => (a === b ? `${a}` : `${a}×${b}`);
  return {
    kind: 'stem', title: 'Stem',
    description: 'A 7×7 convolution with stride 2 to k0 maps, then a 3×3 max pool with stride 2 (paper Table 1).',
    steps: [
      input,
      { op: '7×7 conv, stride 2', layer: 'conv1_conv', shape: [ch, cw, k0], formula: 'k0', value: `k0 = ${k0}`, spatial: `⌈${sides(h, w)}/2⌉ = ${sides(ch, cw)}` },
      { op: 'BN, ReLU, 3×3 max pool, stride 2', layer: 'pool1', shape: [ph, pw, k0], formula: 'k0', value: `k0 = ${k0}`, spatial: `⌈${sides(ch, cw)}/2⌉ = ${sides(ph, pw)}` },
    ],
  };
}

/** Dense layer `layer` (1-based) of dense block `block` (1-based). */
export function denseLayerSchematic(config: DenseNetConfig, block: number, layer: number): Schematic {
  const valid = assertValidConfig(config);
  checkBlock(valid, block);
  const count = valid.blocks[block - 1];
  if (!Number.isInteger(layer) || layer < 1 || layer > count) {
    throw new RangeError(`Dense block ${block} has layers 1 to ${count}; got layer ${layer}.`);
  }
  const { hw, channelsIn } = geometry(valid);
  const [sh, sw] = hw(block);
  const k = valid.growthRate;
  const c0 = channelsIn[block - 1];
  const name = `conv${block + 1}_block${layer}`;
  const inputChannels = c0 + k * (layer - 1);
  const previous = layer === 1 ? blockInput(valid, block).layer : `conv${block + 1}_block${layer - 1}_concat`;
  const steps: SchematicStep[] = [
    { op: 'input: all earlier maps', layer: previous, shape: [sh, sw, inputChannels], formula: concatFormula(c0, k, '(l − 1)'), value: `${concatFormula(c0, k, layer - 1)} = ${inputChannels}` },
  ];
  if (valid.bottleneck) {
    steps.push({ op: `BN, ReLU, 1×1 conv${dropNote(valid)}`, layer: `${name}_1_conv`, shape: [sh, sw, 4 * k], formula: '4·k', value: `${dot(4, k)} = ${4 * k}` });
  }
  steps.push(
    { op: `BN, ReLU, 3×3 conv${dropNote(valid)}`, layer: `${name}_2_conv`, shape: [sh, sw, k], formula: 'k', value: `k = ${k}` },
    { op: 'concatenate onto the input', layer: `${name}_concat`, shape: [sh, sw, inputChannels + k], formula: concatFormula(c0, k, 'l'), value: `${concatFormula(c0, k, layer)} = ${inputChannels + k}` },
  );
  return {
    kind: 'dense-layer', title: `Dense block ${block} · layer ${layer}`,
    description: valid.bottleneck
      ? `BN-ReLU-1×1 conv to 4k maps, BN-ReLU-3×3 conv to k = ${k} new maps, concatenated onto everything before it (paper §3, Eq. 2, "Bottleneck layers").`
      : `BN-ReLU-3×3 conv to k = ${k} new maps, concatenated onto everything before it (paper §3, Eq. 2).`,
    steps,
  };
}

/** Dense block `block` (1-based): its input, then the volume after each of its layers. */
export function blockSchematic(config: DenseNetConfig, block: number): Schematic {
  const valid = assertValidConfig(config);
  checkBlock(valid, block);
  const { hw, channelsIn } = geometry(valid);
  const [sh, sw] = hw(block);
  const k = valid.growthRate;
  const c0 = channelsIn[block - 1];
  const input = blockInput(valid, block);
  const steps: SchematicStep[] = [{ op: 'input', layer: input.layer, shape: [sh, sw, c0], formula: block === 1 ? 'k0' : '⌊θ·m⌋', value: input.value }];
  for (let l = 1; l <= valid.blocks[block - 1]; l++) {
    steps.push({ op: `dense layer ${l}: +k maps`, layer: `conv${block + 1}_block${l}_concat`, shape: [sh, sw, c0 + k * l], formula: concatFormula(c0, k, 'l'), value: `${concatFormula(c0, k, l)} = ${c0 + k * l}` });
  }
  return {
    kind: 'block', title: `Dense block ${block}`,
    description: `${valid.blocks[block - 1]} dense layers; each adds k = ${k} maps, so the block hands on ${concatFormula(c0, k, 'l')} channels after layer l (paper §3, "Growth rate").`,
    steps,
  };
}

/** The transition after dense block `block` (1-based; not the last block). */
export function transitionSchematic(config: DenseNetConfig, block: number): Schematic {
  const valid = assertValidConfig(config);
  checkBlock(valid, block);
  if (block === valid.blocks.length) throw new RangeError(`The last dense block (${block}) is followed by the classifier, not a transition.`);
  const { hw, side, channelsIn, channelsOut } = geometry(valid);
  const [sh, sw] = hw(block);
  const m = channelsOut[block - 1];
  const out = transitionChannels(m, valid.compression);
  const [hh, hw2] = hw(block + 1);
  const theta = valid.compression;
  return {
    kind: 'transition', title: `Transition ${block}`,
    description: `BN-ReLU-1×1 conv keeps ⌊θ·m⌋ of the block's m maps (θ = ${theta}), then a 2×2 average pool with stride 2 halves H and W (paper §3, "Transition layers", "Compression").`,
    steps: [
      { op: 'input: dense block output', layer: `conv${block + 1}_block${valid.blocks[block - 1]}_concat`, shape: [sh, sw, m], formula: 'm', value: `m = ${concatFormula(channelsIn[block - 1], valid.growthRate, valid.blocks[block - 1])} = ${m}` },
      { op: 'BN, ReLU, 1×1 conv', layer: `pool${block + 1}_conv`, shape: [sh, sw, out], formula: '⌊θ·m⌋', value: `⌊${dot(theta, m)}⌋ = ${out}` },
      { op: '2×2 average pool, stride 2', layer: `pool${block + 1}_pool`, shape: [hh, hw2, out], formula: '⌊θ·m⌋', value: `${out}`, spatial: `⌊${side(block)}/2⌋ = ${side(block + 1)}` },
    ],
  };
}

export function classifierSchematic(config: DenseNetConfig): Schematic {
  const valid = assertValidConfig(config);
  const { hw, channelsIn, channelsOut } = geometry(valid);
  const last = valid.blocks.length;
  const [sh, sw] = hw(last);
  const c = channelsOut[last - 1];
  return {
    kind: 'classifier', title: 'Classifier',
    description: 'BN-ReLU, global average pool over H×W, then a fully connected softmax layer (paper Table 1).',
    steps: [
      { op: 'input: last dense block output', layer: `conv${last + 1}_block${valid.blocks[last - 1]}_concat`, shape: [sh, sw, c], formula: 'm', value: `m = ${concatFormula(channelsIn[last - 1], valid.growthRate, valid.blocks[last - 1])} = ${c}` },
      { op: 'BN, ReLU, global average pool', layer: 'avg_pool', shape: [c], formula: 'm', value: num(c), spatial: `${sh}×${sw} → 1×1` },
      { op: 'fully connected, softmax', layer: 'predictions', shape: [valid.classes], formula: 'classes', value: `classes = ${valid.classes}` },
    ],
  };
}

function checkBlock(config: DenseNetConfig, block: number): void {
  if (!Number.isInteger(block) || block < 1 || block > config.blocks.length) {
    throw new RangeError(`This DenseNet has dense blocks 1 to ${config.blocks.length}; got block ${block}.`);
  }
}

/**
 * The schematic of a connectivity-graph node (./graph.ts ids: `conv1`, `conv2_block3`, `pool2`,
 * `predictions`) or of a whole block (`block2`, the graph's collapsed-block id). Null for an id
 * this config does not have.
 */
export function schematicFor(config: DenseNetConfig, id: string): Schematic | null {
  const valid = assertValidConfig(config);
  const n = valid.blocks.length;
  let m: RegExpExecArray | null;
  if (id === 'conv1') return stemSchematic(valid);
  if (id === 'predictions') return classifierSchematic(valid);
  if ((m = /^conv(\d+)_block(\d+)$/.exec(id))) {
    const block = Number(m[1]) - 1;
    const layer = Number(m[2]);
    return block >= 1 && block <= n && layer >= 1 && layer <= valid.blocks[block - 1] ? denseLayerSchematic(valid, block, layer) : null;
  }
  if ((m = /^pool(\d+)$/.exec(id))) {
    const block = Number(m[1]) - 1;
    return block >= 1 && block < n ? transitionSchematic(valid, block) : null;
  }
  if ((m = /^block(\d+)$/.exec(id))) {
    const block = Number(m[1]);
    return block >= 1 && block <= n ? blockSchematic(valid, block) : null;
  }
  return null;
}

/** The graph-node id of a summary stage (`kind`, `block` as in ./summary.ts), for the schematic. */
export function stageNodeId(stage: { kind: 'stem' | 'block' | 'transition' | 'pool'; block: number | null }): string {
  switch (stage.kind) {
    case 'stem': return 'conv1';
    case 'block': return `block${stage.block}`;
    case 'transition': return `pool${(stage.block ?? 0) + 1}`;
    case 'pool': return 'predictions';
  }
}

/**
 * One derivation per summary stage, in the order of ./summary.ts's `stages`: stem, then each
 * block and the transition after it, then the global pool.
 */
export function stageDerivations(config: DenseNetConfig): StageDerivation[] {
  const valid = assertValidConfig(config);
  const { hw, side, channelsIn, channelsOut } = geometry(valid);
  const k = valid.growthRate;
  const [h, w] = valid.inputShape;
  const input = h === w ? `${h}` : `${h}×${w}`;
  const out: StageDerivation[] = [];
  out.push(valid.stem === 'imagenet'
    ? { channels: `k0 = ${valid.initFeatures}`, spatial: `⌈⌈${input}/2⌉/2⌉ = ${side(1)}` }
    : { channels: `k0 = ${valid.initFeatures}` });
  valid.blocks.forEach((layers, b) => {
    out.push({ channels: `${concatFormula(channelsIn[b], k, layers)} = ${channelsOut[b]}` });
    if (b < valid.blocks.length - 1) {
      out.push({ channels: `⌊${dot(valid.compression, channelsOut[b])}⌋ = ${channelsIn[b + 1]}`, spatial: `⌊${side(b + 1)}/2⌋ = ${side(b + 2)}` });
    }
  });
  const [lh, lw] = hw(valid.blocks.length);
  out.push({ channels: `${channelsOut[valid.blocks.length - 1]}`, spatial: `${lh}×${lw} → 1×1` });
  return out;
}
