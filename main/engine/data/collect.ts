import { createHash } from 'node:crypto';
import path from 'node:path';
import type { DatasetSpec } from '../../../shared/training';
import { readManifest } from './csv';
import { walkImageFolder, type Candidate, type Skipped, type SplitName } from './walk';

/**
 * The file list of a folder or CSV dataset, before any image is opened: candidates, files left
 * out on the way (with reasons), the classes found, and a fingerprint of the list.
 */
export interface Collected {
  kind: 'folder' | 'csv';
  root: string;
  /** Sorted class names: a class index is its position here. */
  classes: string[];
  candidates: Candidate[];
  skipped: Skipped[];
  /** Explicit split folders or CSV split column values present; empty means split by seed. */
  explicitSplits: Set<SplitName>;
  errors: string[];
  fingerprint: string;
}

/** Code-point order (as Python's sorted()); labels that are all integers sort numerically. */
export function sortClasses(names: Iterable<string>): string[] {
  const list = [...names];
  if (list.length > 0 && list.every((n) => /^-?\d+$/.test(n))) return list.sort((a, b) => Number(a) - Number(b));
  return list.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** sha256 over the sorted (path, class, size, mtime) list: changes when any file is added, edited or moved. */
export function fingerprintFiles(kind: string, candidates: readonly Candidate[]): string {
  const hash = createHash('sha256').update(`${kind}\n`);
  const lines = candidates.map((c) => `${c.rel}\t${c.cls}\t${c.split ?? ''}\t${c.size}\t${Math.trunc(c.mtimeMs)}`).sort();
  for (const line of lines) hash.update(line + '\n');
  return `sha256:${hash.digest('hex')}`;
}

export async function collectFiles(spec: Extract<DatasetSpec, { kind: 'folder' | 'csv' }>, signal?: AbortSignal): Promise<Collected> {
  const root = path.resolve(spec.path);
  const found = spec.kind === 'folder' ? await walkImageFolder(root, signal) : await readManifest(root, signal);
  const classes = sortClasses(found.classes);
  // With explicit splits, CSV rows without a split value train (a folder layout can't have them).
  const candidates = found.splits.size > 0 ? found.candidates.map((c) => (c.split ? c : { ...c, split: 'train' as const })) : found.candidates;
  return {
    kind: spec.kind,
    root,
    classes,
    candidates,
    skipped: found.skipped,
    explicitSplits: found.splits,
    errors: found.errors,
    fingerprint: fingerprintFiles(spec.kind, candidates),
  };
}
