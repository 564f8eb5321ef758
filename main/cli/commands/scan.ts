import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { WorkbenchError } from '../../../shared/errors';
import { scanDataset, type ScanReport } from '../../engine/data';
import { parseDatasetArg, parseInputShapeArg } from '../dataset-args';

/**
 * `densenet-workbench scan PATH|mnist|fashion-mnist`: prints a dataset's scan report. By default
 * every image is decoded at --input, exactly as training would, so truncated files show up;
 * --quick reads headers only. A dataset with errors exits 2 after printing its report.
 */

interface ScanFlags {
  input: string;
  json?: boolean;
  quick?: boolean;
  valFraction: string;
  seed: string;
  limit?: string;
}

function number(text: string, what: string, check: (v: number) => boolean, accepted: string): number {
  const v = Number(text);
  if (!check(v)) throw new WorkbenchError(`${what} must be ${accepted}; got "${text}".`);
  return v;
}

/** The report as text: per-class counts per split, source sizes, skipped files, warnings, errors. */
export function formatReport(r: ScanReport): string {
  const out: string[] = [];
  const total = r.counts.reduce((a, b) => a + b, 0);
  out.push(`Dataset ${r.root}${r.kind ? ` (${r.kind})` : ''}: ${r.classes.length} classes, ${total} images${r.verified === false ? ' (headers only; run without --quick to decode every image)' : ''}.`);
  const width = Math.min(40, Math.max(5, ...r.classes.map((c) => c.length)));
  const hasTest = r.splits.test.some((v) => v > 0);
  out.push(`  ${'class'.padEnd(width)}  ${'total'.padStart(7)} ${'train'.padStart(7)} ${'val'.padStart(7)}${hasTest ? ` ${'test'.padStart(7)}` : ''}`);
  const shown = 50;
  r.classes.slice(0, shown).forEach((c, i) => {
    const name = c.length > width ? c.slice(0, width - 1) + '…' : c.padEnd(width);
    out.push(`  ${name}  ${String(r.counts[i]).padStart(7)} ${String(r.splits.train[i]).padStart(7)} ${String(r.splits.val[i]).padStart(7)}${hasTest ? ` ${String(r.splits.test[i]).padStart(7)}` : ''}`);
  });
  if (r.classes.length > shown) out.push(`  … and ${r.classes.length - shown} more classes (use --json for all).`);
  const sizes = Object.entries(r.sizes).sort((a, b) => b[1] - a[1]);
  if (sizes.length > 0) {
    out.push(`Image sizes (W×H): ${sizes.slice(0, 8).map(([s, n]) => `${s.replace('x', '×')}: ${n}`).join(', ')}${sizes.length > 8 ? `, and ${sizes.length - 8} other sizes` : ''}.`);
  }
  if (r.skipped.length > 0) {
    out.push(`Skipped (${r.skipped.length}):`);
    for (const s of r.skipped) out.push(`  ${s.path} ${s.reason}.`);
  }
  for (const w of r.warnings) out.push(`Warning: ${w}`);
  for (const e of r.errors) out.push(`Error: ${e}`);
  if (r.errors.length === 0) out.push('The dataset is usable.');
  return out.join('\n') + '\n';
}

export function registerScan(program: Command): void {
  program
    .command('scan')
    .description('Scan a dataset (an image folder, a CSV manifest, mnist or fashion-mnist) and print its report.')
    .argument('<dataset>', 'mnist, fashion-mnist, a folder with one subfolder per class, or a path,label CSV')
    .option('--input <HxWxC>', 'decode at this input shape (C is 1 or 3)', '32x32x3')
    .option('--quick', 'read image headers only (fast; truncated files are not caught)')
    .option('--val-fraction <f>', 'validation fraction when there is no val split', '0.1')
    .option('--seed <n>', 'seed of the stratified split', '42')
    .option('--limit <n>', 'for built-ins: use the first N images')
    .option('--json', 'print the report as JSON')
    .action(async (dataset: string, flags: ScanFlags) => {
      const inputShape = parseInputShapeArg(flags.input);
      const valFraction = number(flags.valFraction, '--val-fraction', (v) => v >= 0 && v < 1, 'a number in [0, 1)');
      const seed = number(flags.seed, '--seed', (v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff, 'an integer in [0, 4294967295]');
      const limit = flags.limit === undefined ? undefined : number(flags.limit, '--limit', (v) => Number.isInteger(v) && v > 0, 'a positive integer');
      const spec = parseDatasetArg(dataset, limit);
      const bar = !flags.json && process.stderr.isTTY ? new SingleBar({ stream: process.stderr, format: 'Scanning [{bar}] {value}/{total} files' }, Presets.shades_classic) : null;
      let started = false;
      const report = await scanDataset(spec, {
        inputShape,
        valFraction,
        seed,
        quick: Boolean(flags.quick),
        onProgress: (done, total) => {
          if (!bar) return;
          if (!started) bar.start(total, 0);
          started = true;
          bar.update(done);
        },
      }).finally(() => bar?.stop());
      process.stdout.write(flags.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report));
      if (report.errors.length > 0) {
        throw new WorkbenchError(`The dataset has ${report.errors.length} error${report.errors.length === 1 ? '' : 's'}; see the report above.`);
      }
    });
}
