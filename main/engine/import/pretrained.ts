import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WorkbenchError } from '../../../shared/errors';
import { downloadVerified, type DownloadProgress, type DownloadResult } from './download';

/**
 * torchvision's ImageNet DenseNets, as `torchvision.models.DenseNet121_Weights.IMAGENET1K_V1` and
 * its siblings publish them (torchvision/models/densenet.py, torchvision 0.14): the URL, whose
 * file name carries the first 8 hex digits of the file's sha256 as torch.hub names checkpoints,
 * and what the weights expect (224×224 RGB, ImageNet normalization, 1000 classes).
 */
export interface PretrainedWeights {
  /** torchvision's model name, also the workbench preset. */
  name: 'densenet121' | 'densenet169' | 'densenet201' | 'densenet161';
  url: string;
  /** `densenet121-a639ec97.pth` */
  fileName: string;
  /** The sha256 prefix in the file name, checked after download (torch.hub's check_hash). */
  hashPrefix: string;
  /** About how many MB the file is (torchvision's docs), for a download prompt. */
  megabytes: number;
  /** ImageNet-1K top-1 accuracy in %, from torchvision's weights metadata. */
  imagenetTop1: number;
}

const BASE = 'https://download.pytorch.org/models/';

function entry(name: PretrainedWeights['name'], hash: string, megabytes: number, imagenetTop1: number): PretrainedWeights {
  const fileName = `${name}-${hash}.pth`;
  return { name, url: BASE + fileName, fileName, hashPrefix: hash, megabytes, imagenetTop1 };
}

export const PRETRAINED: readonly PretrainedWeights[] = Object.freeze([
  entry('densenet121', 'a639ec97', 30.8, 74.434),
  entry('densenet169', 'b2777c0a', 54.7, 75.6),
  entry('densenet201', 'c1103571', 77.4, 76.896),
  entry('densenet161', '8d451a50', 110.4, 77.138),
]);

/** torchvision.transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]). */
export const IMAGENET_NORMALIZATION = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

export function findPretrained(name: string): PretrainedWeights {
  const found = PRETRAINED.find((p) => p.name === name);
  if (!found) throw new WorkbenchError(`No ImageNet weights named ${JSON.stringify(name)}; torchvision publishes ${PRETRAINED.map((p) => p.name).join(', ')}.`);
  return found;
}

/**
 * The folder torch.hub keeps downloaded checkpoints in (torch/hub.py `get_dir`):
 * `$TORCH_HOME/hub/checkpoints`, where TORCH_HOME defaults to `$XDG_CACHE_HOME/torch` and that to
 * `~/.cache/torch`. Sharing it means a file PyTorch already downloaded is not downloaded again,
 * and the other way round.
 */
export function torchHubCheckpointsDir(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  const torchHome = env.TORCH_HOME || path.join(env.XDG_CACHE_HOME || path.join(home, '.cache'), 'torch');
  return path.join(torchHome, 'hub', 'checkpoints');
}

/**
 * Where to download from: torchvision's URL, or the same file name under
 * `WORKBENCH_WEIGHTS_URL_BASE` (a mirror, such as an internal artifact server).
 */
export function pretrainedUrl(weights: PretrainedWeights, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.WORKBENCH_WEIGHTS_URL_BASE;
  return base ? new URL(weights.fileName, base.endsWith('/') ? base : `${base}/`).href : weights.url;
}

/** The cached file's path when it is there (verified by whoever reads it), else null. */
export function cachedPretrained(weights: PretrainedWeights, dir = torchHubCheckpointsDir()): string | null {
  const file = path.join(dir, weights.fileName);
  return fs.existsSync(file) ? file : null;
}

/** The sha256 prefix a checkpoint's name carries (torch.hub's HASH_REGEX `-([a-f0-9]*)\.`), or null. */
export function hashPrefixOf(fileName: string): string | null {
  const m = /-([a-f0-9]+)\./.exec(path.basename(fileName));
  return m ? m[1] : null;
}

export interface FetchPretrainedOptions {
  /** Default: the torch hub cache (torchHubCheckpointsDir). */
  cacheDir?: string;
  onProgress?: (p: DownloadProgress) => void;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/**
 * The path of a checkpoint in the cache, downloading it first when it is not there. Works for
 * torchvision's ImageNet weights by name and for any URL whose file name carries a sha256 prefix
 * (`name-<hex>.pth`), as torch.hub.load_state_dict_from_url does.
 */
export async function fetchCheckpoint(nameOrUrl: string, options: FetchPretrainedOptions = {}): Promise<DownloadResult> {
  const env = options.env ?? process.env;
  const isUrl = /^https?:\/\//.test(nameOrUrl);
  const url = isUrl ? nameOrUrl : pretrainedUrl(findPretrained(nameOrUrl), env);
  const fileName = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
  if (!fileName) throw new WorkbenchError(`${url} does not end in a file name.`);
  const dir = options.cacheDir ?? torchHubCheckpointsDir(env);
  const dest = path.join(dir, fileName);
  return downloadVerified({
    url,
    dest,
    hashPrefix: hashPrefixOf(fileName),
    onProgress: options.onProgress,
    signal: options.signal,
    offlineHint:
      `Without internet, download ${url} on a machine that has it and copy it to ${dest} ` +
      '(the torch hub cache, which PyTorch uses too), or import the file from anywhere with --weights FILE.',
  });
}
