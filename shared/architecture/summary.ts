/**
 * The architecture summary shown live in the New-run view and printed by `densenet-workbench summary`:
 * per-layer volumes and counts, per-block channels (k0 + k·ℓ), the volume after every stage as in
 * the seed article's DenseNet-121 figures, and totals. Pure TS: no tfjs, so the renderer can run it.
 */
import type { DenseNetConfig } from '../config';
import { assertValidConfig } from '../validation';
import { layerTable, type LayerSummary } from './layers';
import { blockChannels } from './shapes';

export interface BlockSummary {
  /** 1-based dense block index (Keras prefix `conv{index + 1}`). */
  index: number;
  /** Dense layers in the block. */
  layers: number;
  growthRate: number;
  /** k0: channels entering the block. */
  channelsIn: number;
  /** k0 + k·ℓ (paper §3, "Growth rate"). */
  channelsOut: number;
  /** [H, W, channelsOut]. */
  outputShape: number[];
}

export type StageKind = 'stem' | 'block' | 'transition' | 'pool';

export interface StageSummary {
  kind: StageKind;
  /** The dense block of a `block` stage, or the block a `transition` follows; null for stem and pool. */
  block: number | null;
  /** Human label, e.g. `Dense block 1`. */
  label: string;
  /** Keras layer whose output this volume is (`pool1`, `conv2_block6_concat`, `pool2_pool`, `avg_pool`). */
  layer: string;
  /** [H, W, C], or [C] after global average pooling. */
  shape: number[];
}

export interface ArchitectureTotals {
  params: number;
  trainableParams: number;
  nonTrainableParams: number;
  /** Multiply-accumulates of one forward pass of one image (convs + Dense; see ./layers.ts). */
  macs: number;
}

export interface ArchitectureSummary {
  config: DenseNetConfig;
  layers: LayerSummary[];
  blocks: BlockSummary[];
  stages: StageSummary[];
  totals: ArchitectureTotals;
}

/** Summarizes a config. Throws a user WorkbenchError listing every problem if it is invalid. */
export function summarize(config: DenseNetConfig): ArchitectureSummary {
  const valid = assertValidConfig(config);
  const layers = layerTable(valid);
  const byName = new Map(layers.map((l) => [l.name, l]));
  const { channelsIn, channelsOut } = blockChannels(valid);
  const shapeOf = (name: string) => [...(byName.get(name) as LayerSummary).outputShape];

  const blocks: BlockSummary[] = valid.blocks.map((count, b) => ({
    index: b + 1,
    layers: count,
    growthRate: valid.growthRate,
    channelsIn: channelsIn[b],
    channelsOut: channelsOut[b],
    outputShape: shapeOf(`conv${b + 2}_block${count}_concat`),
  }));

  const stemLayer = valid.stem === 'imagenet' ? 'pool1' : 'conv1_conv';
  const stages: StageSummary[] = [{ kind: 'stem', block: null, label: 'Stem', layer: stemLayer, shape: shapeOf(stemLayer) }];
  valid.blocks.forEach((count, b) => {
    const block = `conv${b + 2}_block${count}_concat`;
    stages.push({ kind: 'block', block: b + 1, label: `Dense block ${b + 1}`, layer: block, shape: shapeOf(block) });
    if (b < valid.blocks.length - 1) {
      const pool = `pool${b + 2}_pool`;
      stages.push({ kind: 'transition', block: b + 1, label: `Transition ${b + 1}`, layer: pool, shape: shapeOf(pool) });
    }
  });
  stages.push({ kind: 'pool', block: null, label: 'Global average pool', layer: 'avg_pool', shape: shapeOf('avg_pool') });

  const totals = layers.reduce<ArchitectureTotals>(
    (t, l) => ({
      params: t.params + l.params,
      trainableParams: t.trainableParams + l.trainableParams,
      nonTrainableParams: t.nonTrainableParams + l.params - l.trainableParams,
      macs: t.macs + l.macs,
    }),
    { params: 0, trainableParams: 0, nonTrainableParams: 0, macs: 0 },
  );
  return { config: valid, layers, blocks, stages, totals };
}
