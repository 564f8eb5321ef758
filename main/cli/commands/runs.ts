import type { Command } from 'commander';
import path from 'node:path';
import { shownEpoch, statusLabel } from '../../../shared/run/lifecycle';
import { listRuns, type RunInfo } from '../../engine/runs/run-store';
import { addRunsOption, runsDirOf, type RunsFlags } from '../runs-option';
import { percent } from '../../../shared/format';

/** `densenet-workbench runs`: the runs under --runs with their status, progress and best accuracy. */

export function formatRuns(runs: RunInfo[], root: string): string {
  if (runs.length === 0) return `No runs under ${root}.\n`;
  const rows = runs.map((r) => [
    r.id, r.name, statusLabel(r.status, r.reason), `${shownEpoch(r.progress, r.progress.epochs)}/${r.progress.epochs} (${Math.round(r.progress.fraction * 100)}%)`,
    percent(r.best?.valAccuracy, 2), r.created.replace('T', ' ').slice(0, 19),
  ]);
  const header = ['id', 'name', 'status', 'epoch', 'best val acc', 'created'];
  const widths = header.map((h, i) => Math.min(48, Math.max(h.length, ...rows.map((r) => r[i].length))));
  const line = (cells: string[]) => cells.map((c, i) => (c.length > widths[i] ? c.slice(0, widths[i] - 1) + '…' : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [line(header), ...rows.map(line)];
  for (const r of runs) if (r.message && (r.status === 'failed' || r.status === 'interrupted')) out.push(`${r.id}: ${r.message}`);
  return out.join('\n') + '\n';
}

export function registerRuns(program: Command): void {
  const command = program
    .command('runs')
    .description('List runs with their status (loading, running, paused, stopping, finished, stopped, diverged, failed, interrupted).')
    .option('--json', 'print the list as JSON');
  addRunsOption(command, { legacyOut: true }).action((flags: RunsFlags & { out?: string; json?: boolean }) => {
    const root = runsDirOf(flags, flags.out);
    const runs = listRuns(root);
    process.stdout.write(flags.json ? JSON.stringify(runs, null, 2) + '\n' : formatRuns(runs, path.resolve(root)));
  });
}
