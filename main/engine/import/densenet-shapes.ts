import type { DenseNetConfig } from '../../../shared/config';
import { blockChannels, transitionChannels } from '../../../shared/architecture/shapes';
import { PRESETS } from '../../../shared/presets';

/**
 * The architecture a torchvision-style DenseNet state dict describes, read off its keys and
 * shapes alone (no model is built), and the shape every key must have for a given architecture,
 * so a file that fits no variant is reported by the first tensor that disagrees.
 */

export type DenseNetArchitecture = Pick<DenseNetConfig, 'blocks' | 'growthRate' | 'bottleneck' | 'compression' | 'initFeatures' | 'stem'> & {
  inputChannels: number;
  /** Output classes of the file's classifier; null when it has none. */
  classes: number | null;
  /** torchvision's `bn_size`: the bottleneck conv makes bnSize·k channels (4 in the paper). */
  bnSize: number | null;
};

type Shaped = { shape: number[] };

const LAYER_KEY = /^features\.denseblock(\d+)\.denselayer(\d+)\./;

/** Null when the keys are not a DenseNet's (no `features.conv0.weight` and dense layers). */
export function inferDenseNet(tensors: Map<string, Shaped>): DenseNetArchitecture | null {
  const conv0 = tensors.get('features.conv0.weight');
  if (!conv0 || conv0.shape.length !== 4) return null;
  const counts: number[] = [];
  for (const key of tensors.keys()) {
    const m = LAYER_KEY.exec(key);
    if (m) counts[Number(m[1]) - 1] = Math.max(counts[Number(m[1]) - 1] ?? 0, Number(m[2]));
  }
  if (counts.length === 0 || Array.from(counts).some((c) => c === undefined)) return null;
  const layer1 = 'features.denseblock1.denselayer1';
  const conv2 = tensors.get(`${layer1}.conv2.weight`);
  if (!conv2 || conv2.shape.length !== 4) return null;
  const growthRate = conv2.shape[0];
  const conv1 = tensors.get(`${layer1}.conv1.weight`);
  const classifier = tensors.get('classifier.weight');
  const initFeatures = conv0.shape[0];
  const arch: DenseNetArchitecture = {
    blocks: Array.from(counts),
    growthRate,
    bottleneck: Boolean(conv1),
    bnSize: conv1 ? conv1.shape[0] / growthRate : null,
    compression: 1,
    initFeatures,
    stem: tensors.has('features.norm0.weight') || conv0.shape[2] === 7 ? 'imagenet' : 'cifar',
    inputChannels: conv0.shape[1],
    classes: classifier && classifier.shape.length === 2 ? classifier.shape[0] : null,
  };
  arch.compression = inferCompression(tensors, arch);
  return arch;
}

/**
 * θ from the transitions: the value among 0.5, 1 and out/in (rounded) for which every
 * transition's ⌊θ·m⌋ matches. Falls back to the first transition's ratio, so the shape check
 * names the transition that disagrees.
 */
function inferCompression(tensors: Map<string, Shaped>, arch: DenseNetArchitecture): number {
  const first = tensors.get('features.transition1.conv.weight');
  if (!first || first.shape.length !== 4) return 0.5;
  const ratio = Math.round((first.shape[0] / first.shape[1]) * 1e4) / 1e4;
  const candidates = [0.5, 1, ratio];
  const fits = (theta: number) => {
    let m = arch.initFeatures;
    return arch.blocks.slice(0, -1).every((layers, b) => {
      m += layers * arch.growthRate;
      const t = tensors.get(`features.transition${b + 1}.conv.weight`);
      const ok = Boolean(t) && t!.shape[0] === transitionChannels(m, theta);
      m = transitionChannels(m, theta);
      return ok;
    });
  };
  return candidates.find(fits) ?? ratio;
}

/** The preset with exactly this architecture, if any. */
export function matchingPreset(arch: Pick<DenseNetConfig, 'blocks' | 'growthRate' | 'bottleneck' | 'compression' | 'initFeatures' | 'stem'>): string | null {
  const keys = ['blocks', 'growthRate', 'bottleneck', 'compression', 'initFeatures', 'stem'] as const;
  const found = PRESETS.find((p) => {
    const c = p.config();
    return keys.every((k) => JSON.stringify(c[k]) === JSON.stringify(arch[k]));
  });
  return found?.name ?? null;
}

/** "blocks [6, 12, 24, 16], k=32, 64 initial features, bottleneck, θ=0.5, ImageNet stem" */
export function describeDenseNet(a: Pick<DenseNetConfig, 'blocks' | 'growthRate' | 'bottleneck' | 'compression' | 'initFeatures' | 'stem'>): string {
  return `blocks [${a.blocks.join(', ')}], k=${a.growthRate}, ${a.initFeatures} initial features, ${a.bottleneck ? 'bottleneck' : 'no bottleneck'}, θ=${a.compression}, ${a.stem === 'imagenet' ? 'ImageNet' : 'CIFAR'} stem`;
}

/**
 * Every state-dict key of the torchvision-style DenseNet `config` describes, with its shape (OIHW
 * for convs, [out, in] for the classifier), in model order. `num_batches_tracked` buffers are not
 * listed: they carry no weights.
 */
export function expectedShapes(config: Pick<DenseNetConfig, 'blocks' | 'growthRate' | 'bottleneck' | 'compression' | 'initFeatures' | 'stem' | 'classes'> & { inputChannels: number }): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const bn = (prefix: string, c: number) => {
    for (const p of ['weight', 'bias', 'running_mean', 'running_var']) out.set(`${prefix}.${p}`, [c]);
  };
  const k = config.growthRate;
  const stemKernel = config.stem === 'imagenet' ? 7 : 3;
  out.set('features.conv0.weight', [config.initFeatures, config.inputChannels, stemKernel, stemKernel]);
  if (config.stem === 'imagenet') bn('features.norm0', config.initFeatures);
  const { channelsIn, channelsOut } = blockChannels(config);
  config.blocks.forEach((layers, b) => {
    for (let i = 0; i < layers; i++) {
      const layer = `features.denseblock${b + 1}.denselayer${i + 1}`;
      const c = channelsIn[b] + i * k;
      bn(`${layer}.norm1`, c);
      if (config.bottleneck) {
        out.set(`${layer}.conv1.weight`, [4 * k, c, 1, 1]);
        bn(`${layer}.norm2`, 4 * k);
        out.set(`${layer}.conv2.weight`, [k, 4 * k, 3, 3]);
      } else {
        out.set(`${layer}.conv2.weight`, [k, c, 3, 3]);
      }
    }
    if (b < config.blocks.length - 1) {
      bn(`features.transition${b + 1}.norm`, channelsOut[b]);
      out.set(`features.transition${b + 1}.conv.weight`, [transitionChannels(channelsOut[b], config.compression), channelsOut[b], 1, 1]);
    }
  });
  const last = channelsOut[channelsOut.length - 1];
  bn('features.norm5', last);
  out.set('classifier.weight', [config.classes, last]);
  out.set('classifier.bias', [config.classes]);
  return out;
}

type ShapeConfig = Parameters<typeof expectedShapes>[0];

/**
 * The tensors present in `tensors` whose shapes disagree with `config`'s, as sentence fragments in
 * model order. The classifier may have another class count (it is replaced then).
 */
export function shapeMismatches(tensors: Map<string, Shaped>, config: ShapeConfig): string[] {
  const out: string[] = [];
  for (const [key, shape] of expectedShapes(config)) {
    const t = tensors.get(key);
    if (!t) continue;
    const same = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
    const otherClassCount = key.startsWith('classifier.') && t.shape.length === shape.length && t.shape.slice(1).join() === shape.slice(1).join();
    if (!same && !otherClassCount) out.push(`layer ${key} has shape [${t.shape.join(', ')}] where that architecture needs [${shape.join(', ')}]`);
  }
  return out;
}

/**
 * The first way `tensors` disagree with `config`'s keys and shapes, as a sentence fragment, or
 * null when every key is there with its shape: a wrong shape first, then a missing tensor, then
 * tensors the architecture lacks. The classifier may be absent (a feature extractor), and
 * `num_batches_tracked` buffers are ignored.
 */
export function firstMismatch(tensors: Map<string, Shaped>, config: ShapeConfig): string | null {
  const shapes = shapeMismatches(tensors, config);
  if (shapes.length) return shapes[0];
  const expected = expectedShapes(config);
  for (const [key, shape] of expected) {
    if (!tensors.has(key) && !key.startsWith('classifier.')) return `it has no tensor ${key}, which that architecture needs (shape [${shape.join(', ')}])`;
  }
  const extra = [...tensors.keys()].filter((k) => !expected.has(k) && !/(^|\.)num_batches_tracked$/.test(k));
  if (extra.length) return `it has ${extra.length} tensors that architecture lacks, e.g. ${extra.slice(0, 3).join(', ')}`;
  return null;
}
