import type { Command } from 'commander';
import { writeRunReport } from '../../engine/report/write-report';
import { resolveRunDir } from '../../engine/runs/run-store';
import { addRunsOption, runsDirOf } from '../runs-option';

/** `densenet-workbench report RUN [--out FILE]`: a self-contained HTML report and a metrics CSV. */
export function registerReport(program: Command): void {
  const command = program
    .command('report')
    .description('Write a self-contained HTML report of a run (curves, metrics, confusion matrix, architecture, heat maps, config) and a metrics CSV beside it.')
    .argument('<run>', 'a run folder, or the id or name of a run under --runs')
    .option('--out <file>', 'the HTML file (default <run>/report.html); the CSV gets the same name with .csv');
  addRunsOption(command).action((run: string, flags: { out?: string; runs?: string }) => {
    const { html, csv } = writeRunReport(resolveRunDir(run, runsDirOf({ runs: flags.runs })), flags.out);
    process.stdout.write(`Report: ${html}\nMetrics CSV: ${csv}\n`);
  });
}
