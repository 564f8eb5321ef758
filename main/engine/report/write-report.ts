import * as path from 'node:path';
import { WorkbenchError } from '../../../shared/errors';
import { readMetrics, readRunConfig, readRunStatus, readRunSummary } from '../runs/run-store';
import { writeOutputFile } from '../export/output-files';
import { metricsCsv } from './csv';
import { renderReport } from './html';

/** Writes `<out>` (default `<run>/report.html`) and the metrics CSV beside it (same name, .csv). */
export function writeRunReport(runDir: string, out?: string): { html: string; csv: string } {
  const html = path.resolve(out ?? path.join(runDir, 'report.html'));
  if (!/\.html?$/i.test(html)) throw new WorkbenchError(`The report file must end in .html; got ${html}.`);
  const csv = html.replace(/\.html?$/i, '.csv');
  const config = readRunConfig(runDir);
  const { events, skipped } = readMetrics(runDir);
  const page = renderReport({ config, status: readRunStatus(runDir), summary: readRunSummary(runDir), events, skippedLines: skipped, generated: new Date() });
  writeOutputFile(html, page);
  writeOutputFile(csv, metricsCsv(events));
  return { html, csv };
}
