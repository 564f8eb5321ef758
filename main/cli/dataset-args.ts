import { statSync } from 'node:fs';
import { WorkbenchError } from '../../shared/errors';
import type { DatasetSpec } from '../../shared/training';
import type { InputShape } from '../engine/data/decode';

/**
 * Command-line spellings of datasets and input shapes, shared by every CLI command that takes
 * `--data` or `--input`: `mnist` and `fashion-mnist` are the built-ins (write `./mnist` for a
 * folder of that name), a path to a file ending in .csv is a manifest, any other path a folder.
 */
export function parseDatasetArg(arg: string, limit?: number): DatasetSpec {
  if (arg === 'mnist' || arg === 'fashion-mnist') return limit ? { kind: 'builtin', name: arg, limit } : { kind: 'builtin', name: arg };
  if (arg.trim() === '') throw new WorkbenchError('A dataset must be mnist, fashion-mnist, a folder or a .csv manifest; got an empty string.');
  let isFile = false;
  try {
    isFile = statSync(arg).isFile();
  } catch {
    // A missing path is reported by the scan ("Dataset folder … does not exist").
  }
  if (arg.toLowerCase().endsWith('.csv') && (isFile || !arg.endsWith('/'))) return { kind: 'csv', path: arg };
  return { kind: 'folder', path: arg };
}

/** "32x32x3", "28x28x1" or "32,32,3" → [H, W, C]. */
export function parseInputShapeArg(text: string): InputShape {
  const m = /^\s*(\d+)\s*[x×,]\s*(\d+)\s*[x×,]\s*(\d+)\s*$/i.exec(text);
  const shape = m ? ([Number(m[1]), Number(m[2]), Number(m[3])] as InputShape) : null;
  if (!shape || shape.some((v) => v < 1) || shape[0] > 4096 || shape[1] > 4096 || (shape[2] !== 1 && shape[2] !== 3)) {
    throw new WorkbenchError(`An input shape must be HxWxC with H and W in 1..4096 and C 1 (grayscale) or 3 (RGB), e.g. 32x32x3; got "${text}".`);
  }
  return shape;
}
