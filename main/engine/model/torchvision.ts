/**
 * Keras layer names ↔ torchvision `DenseNet` state-dict names (torchvision/models/densenet.py),
 * so torchvision weights (e.g. a safetensors file of `densenet121`'s state dict) load into the
 * model of ./densenet.ts, and back.
 *
 * | Keras layer (weight)                             | torchvision                                        | layout      |
 * |--------------------------------------------------|----------------------------------------------------|-------------|
 * | conv1_conv (kernel)                              | features.conv0.weight                              | OIHW->HWIO  |
 * | conv1_bn (gamma, beta, moving_mean, moving_var.) | features.norm0.(weight, bias, running_mean, running_var) | same  |
 * | conv{b+1}_block{i}_0_bn                          | features.denseblock{b}.denselayer{i}.norm1.*       | same        |
 * | conv{b+1}_block{i}_1_conv (kernel)               | features.denseblock{b}.denselayer{i}.conv1.weight  | OIHW->HWIO  |
 * | conv{b+1}_block{i}_1_bn                          | features.denseblock{b}.denselayer{i}.norm2.*       | same        |
 * | conv{b+1}_block{i}_2_conv (kernel)               | features.denseblock{b}.denselayer{i}.conv2.weight  | OIHW->HWIO  |
 * | pool{b+1}_bn                                     | features.transition{b}.norm.*                      | same        |
 * | pool{b+1}_conv (kernel)                          | features.transition{b}.conv.weight                 | OIHW->HWIO  |
 * | bn                                               | features.norm5.*                                   | same        |
 * | predictions (kernel, bias)                       | classifier.(weight, bias)                          | OI->IO, same|
 *
 * BN weights map gamma→weight, beta→bias, moving_mean→running_mean, moving_variance→running_var.
 * torchvision's `num_batches_tracked` buffers have no Keras counterpart and are not listed.
 * Porting note: torchvision has neither a CIFAR stem nor dense layers without a bottleneck. The
 * CIFAR stem's single conv maps to `features.conv0` (there is no `norm0`), as CIFAR ports of
 * torchvision's class do. A dense layer without a bottleneck (the paper's plain DenseNet) keeps
 * `norm1` for its only BN and `conv2` for its only (3×3) conv, so `conv2` is always the k new
 * feature maps, as `_2_conv` is on the Keras side; the model snippet of `export --format
 * torchvision` builds such layers with exactly these names.
 */
import type { DenseNetConfig } from '../../../shared/config';
import { assertValidConfig } from '../../../shared/validation';

export type KerasWeight = 'kernel' | 'gamma' | 'beta' | 'moving_mean' | 'moving_variance' | 'bias';

/** How to turn the torchvision tensor into the TF.js one (the reverse for export). */
export type WeightLayout = 'OIHW->HWIO' | 'OI->IO' | 'same';

export interface TorchvisionNameRow {
  /** Keras/TF.js layer name, e.g. `conv2_block1_1_conv`. */
  keras: string;
  weight: KerasWeight;
  /** State-dict key, e.g. `features.denseblock1.denselayer1.conv1.weight`. */
  torch: string;
  layout: WeightLayout;
}

const BN_WEIGHTS: [KerasWeight, string][] = [
  ['gamma', 'weight'],
  ['beta', 'bias'],
  ['moving_mean', 'running_mean'],
  ['moving_variance', 'running_var'],
];

function bn(keras: string, torch: string): TorchvisionNameRow[] {
  return BN_WEIGHTS.map(([weight, suffix]) => ({ keras, weight, torch: `${torch}.${suffix}`, layout: 'same' }));
}

function conv(keras: string, torch: string): TorchvisionNameRow {
  return { keras, weight: 'kernel', torch: `${torch}.weight`, layout: 'OIHW->HWIO' };
}

/**
 * Every weight of the model built from `config`, in model order (the order of
 * `model.getWeights()`), with its torchvision state-dict key and layout.
 */
export function torchvisionNameMap(config: DenseNetConfig): TorchvisionNameRow[] {
  const valid = assertValidConfig(config);
  const rows: TorchvisionNameRow[] = [conv('conv1_conv', 'features.conv0')];
  if (valid.stem === 'imagenet') rows.push(...bn('conv1_bn', 'features.norm0'));
  valid.blocks.forEach((layers, b) => {
    const block = b + 1;
    for (let i = 1; i <= layers; i++) {
      const keras = `conv${block + 1}_block${i}`;
      const torch = `features.denseblock${block}.denselayer${i}`;
      rows.push(...bn(`${keras}_0_bn`, `${torch}.norm1`));
      if (valid.bottleneck) rows.push(conv(`${keras}_1_conv`, `${torch}.conv1`), ...bn(`${keras}_1_bn`, `${torch}.norm2`));
      rows.push(conv(`${keras}_2_conv`, `${torch}.conv2`));
    }
    if (block < valid.blocks.length) {
      rows.push(...bn(`pool${block + 1}_bn`, `features.transition${block}.norm`), conv(`pool${block + 1}_conv`, `features.transition${block}.conv`));
    }
  });
  rows.push(...bn('bn', 'features.norm5'));
  rows.push({ keras: 'predictions', weight: 'kernel', torch: 'classifier.weight', layout: 'OI->IO' });
  rows.push({ keras: 'predictions', weight: 'bias', torch: 'classifier.bias', layout: 'same' });
  return rows;
}
