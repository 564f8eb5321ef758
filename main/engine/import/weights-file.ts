import * as fs from 'node:fs';
import { WorkbenchError } from '../../../shared/errors';
import { parseSafetensors, type SafeTensor } from './safetensors';
import { loadTorchFile, looksLikeTorchFile } from './pth';
import { findStateDict, normalizeKeys } from './state-dict';

/**
 * A weights file as a user has it, told apart by its content rather than its name (`.pth`, `.pt`,
 * `.bin`, `.pth.tar` and `.safetensors` are all in use): a torch.save checkpoint or safetensors.
 * The result is a flat state dict with today's torchvision key names.
 */
export type WeightsFormat = 'safetensors' | 'pth-zip' | 'pth-legacy';

export interface WeightsFile {
  format: WeightsFormat;
  tensors: Map<string, SafeTensor>;
  /** What was done to reach the plain state dict, in words (wrapper key, prefix, legacy names). */
  notes: string[];
}

export const FORMAT_NAMES: Record<WeightsFormat, string> = {
  safetensors: 'safetensors',
  'pth-zip': 'PyTorch checkpoint (zip format)',
  'pth-legacy': 'PyTorch checkpoint (legacy format)',
};

export async function readWeightsFile(file: string): Promise<WeightsFile> {
  const bytes = readBytes(file);
  return parseWeights(bytes, file);
}

export async function parseWeights(bytes: Uint8Array, label: string): Promise<WeightsFile> {
  if (!looksLikeTorchFile(bytes)) {
    if (!looksLikeSafetensors(bytes)) {
      const head = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      throw new WorkbenchError(
        `${label} is neither a PyTorch checkpoint (torch.save: a zip archive or a pickle) nor a safetensors file; it starts with the bytes ${head || '(none: it is empty)'}.`,
      );
    }
    const { tensors } = parseSafetensors(bytes, label);
    const { tensors: renamed, notes } = normalizeKeys(tensors);
    return { format: 'safetensors', tensors: renamed, notes };
  }
  const notes: string[] = [];
  const loaded = await loadTorchFile(bytes, label, (root) => {
    const found = findStateDict(root, label);
    if (found.wrapper) notes.push(`read the state dict under "${found.wrapper}"`);
    const normalized = normalizeKeys(found.tensors);
    notes.push(...normalized.notes);
    return normalized.tensors;
  });
  return { format: loaded.format === 'zip' ? 'pth-zip' : 'pth-legacy', tensors: loaded.tensors, notes };
}

/**
 * Whether the safetensors parser's own errors will make sense: a header length under its 100 MB
 * limit (anything else, such as an image, gets a sentence saying what the file is not).
 */
function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return bytes.length > 0;
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true) <= 100_000_000n;
}

function readBytes(file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new WorkbenchError(`${file} does not exist.`);
    if (code === 'EISDIR') throw new WorkbenchError(`${file} is a folder; give the weights file itself.`);
    throw new WorkbenchError(`Cannot read ${file}: ${(err as Error).message}`);
  }
}
