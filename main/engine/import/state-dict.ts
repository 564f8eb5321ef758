import { WorkbenchError } from '../../../shared/errors';
import { PyDict, isTensor, typeName, type PyValue, type TensorRef } from './pickle';

/**
 * State dicts as people save them, brought to the key layout of today's torchvision DenseNet:
 * - the dict itself (`torch.save(model.state_dict())`), or one wrapped in a training checkpoint
 *   under `state_dict`, `model` or `model_state_dict`;
 * - a `module.` prefix on every key, left by nn.DataParallel and DistributedDataParallel;
 * - the legacy key layout of torchvision's published ImageNet weights (below).
 */

/** Where training scripts put the weights in a checkpoint dict, in the order they are tried. */
const WRAPPER_KEYS = ['state_dict', 'model', 'model_state_dict'];

export interface FoundStateDict {
  tensors: Map<string, TensorRef>;
  /** The wrapper key the state dict was found under, or null for a bare state dict. */
  wrapper: string | null;
}

/** The state dict in a checkpoint's top-level object. */
export function findStateDict(root: PyValue, label: string): FoundStateDict {
  if (!(root instanceof PyDict)) throw new WorkbenchError(`${label} holds a ${typeName(root)}, not a state dict (a dict of tensors).`);
  const direct = tensorsOf(root);
  if (direct) return { tensors: direct, wrapper: null };
  for (const key of WRAPPER_KEYS) {
    const inner = root.entries.get(key);
    if (inner instanceof PyDict) {
      const tensors = tensorsOf(inner);
      if (tensors) return { tensors, wrapper: key };
    }
  }
  const keys = [...root.entries.keys()].map((k) => JSON.stringify(k));
  throw new WorkbenchError(
    `${label} holds a dict with keys ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', …' : ''} but no state dict: it is not a dict of tensors and has ` +
      `none under ${WRAPPER_KEYS.map((k) => `"${k}"`).join(', ')}. Save the weights in Python with torch.save(model.state_dict(), 'weights.pth').`,
  );
}

/** A dict whose keys are all strings and values all tensors; null otherwise. */
function tensorsOf(dict: PyDict): Map<string, TensorRef> | null {
  if (dict.entries.size === 0) return null;
  const out = new Map<string, TensorRef>();
  for (const [k, v] of dict.entries) {
    if (typeof k !== 'string' || !isTensor(v)) return null;
    out.set(k, v);
  }
  return out;
}

/**
 * Porting note: before PyTorch 0.4 allowed no dots in module names, torchvision's `_DenseLayer`
 * named its modules `norm.1`, `relu.1`, `conv.1`, `norm.2`, `relu.2`, `conv.2`, and its published
 * ImageNet checkpoints (densenet121-a639ec97.pth, ...) still carry those keys. torchvision's own
 * loader (`_load_state_dict` in torchvision/models/densenet.py) renames them with this regex, and
 * so does the workbench: `features.denseblock1.denselayer1.norm.1.weight` → `...denselayer1.norm1.weight`.
 */
const LEGACY_LAYER_KEY = /^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$/;

export interface NormalizedKeys<T> {
  tensors: Map<string, T>;
  /** What was changed, in words, for the import report. */
  notes: string[];
}

/** Strips a DataParallel `module.` prefix and renames legacy torchvision keys. */
export function normalizeKeys<T>(tensors: Map<string, T>): NormalizedKeys<T> {
  const notes: string[] = [];
  let entries = [...tensors.entries()];
  if (entries.length > 0 && entries.every(([k]) => k.startsWith('module.'))) {
    entries = entries.map(([k, v]) => [k.slice('module.'.length), v]);
    notes.push('removed the "module." prefix that nn.DataParallel adds to every key');
  }
  let renamed = 0;
  entries = entries.map(([k, v]) => {
    const m = LEGACY_LAYER_KEY.exec(k);
    if (!m) return [k, v];
    renamed++;
    return [m[1] + m[2], v];
  });
  if (renamed > 0) notes.push(`renamed ${renamed} keys from torchvision's legacy layout (norm.1 → norm1, conv.2 → conv2), as torchvision's own loader does`);
  const out = new Map<string, T>();
  for (const [k, v] of entries) {
    if (out.has(k)) throw new WorkbenchError(`The state dict has both a legacy and a current key for ${k}; it cannot tell which to load.`);
    out.set(k, v);
  }
  return { tensors: out, notes };
}

/**
 * A sentence on what a state dict that is not a torchvision DenseNet holds, from its key names:
 * the torchvision families are recognised by their module names, anything else is summarized by
 * its top-level modules.
 */
export function describeForeignStateDict(keys: string[]): string {
  const has = (re: RegExp) => keys.some((k) => re.test(k));
  const families: [string, boolean][] = [
    ['a ResNet (torchvision resnet/resnext/wide_resnet: conv1, layer1–layer4, fc)', has(/^layer[1-4]\.\d+\.conv1\.weight$/) && has(/^fc\.weight$/)],
    ['a Vision Transformer (encoder.layers, heads)', has(/^encoder\.layers?\./) && has(/^(heads|head)\./)],
    ['an EfficientNet or MobileNet (features.N.block / features.N.conv, classifier)', has(/^features\.\d+\.(\d+\.)?(block|conv)\./)],
    ['a VGG or AlexNet (features.N, classifier.N)', has(/^features\.\d+\.weight$/) && has(/^classifier\.\d+\.weight$/)],
    ['an Inception or GoogLeNet (Conv2d_1a_3x3 / conv1.conv, Mixed_ / inception blocks)', has(/^(Conv2d_1a_3x3|Mixed_|inception\d)/)],
    ['a SqueezeNet (features.N.squeeze)', has(/\.squeeze\.weight$/)],
  ];
  const family = families.find(([, match]) => match)?.[0];
  const tops = new Map<string, number>();
  for (const k of keys) {
    const top = k.split('.').slice(0, k.startsWith('features.') ? 2 : 1).join('.');
    tops.set(top, (tops.get(top) ?? 0) + 1);
  }
  const summary = [...tops.entries()].slice(0, 8).map(([t, n]) => `${t} (${n})`).join(', ');
  return `${keys.length} tensors${family ? `; it looks like ${family}` : ''}. Top-level modules: ${summary}${tops.size > 8 ? ', …' : ''}`;
}
