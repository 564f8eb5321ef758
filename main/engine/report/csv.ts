import type { TrainerEvent } from '../../../shared/protocol';

/**
 * Every scalar of a run's step and epoch events as one CSV (RFC 4180: comma-separated, header row,
 * CRLF line ends, quoted only where needed). Empty cells mean "not reported by this event type".
 */
export const METRICS_CSV_COLUMNS = [
  'type', 'step', 'epoch', 'epochStep', 'stepsPerEpoch', 'loss', 'accuracy', 'valLoss', 'valAccuracy', 'lr', 'imagesPerSec', 'seconds', 'time',
] as const;

export function metricsCsv(events: readonly TrainerEvent[]): string {
  const rows: string[] = [METRICS_CSV_COLUMNS.join(',')];
  for (const e of events) {
    if (e.type !== 'step' && e.type !== 'epoch') continue;
    const record = e as unknown as Record<string, unknown>;
    rows.push(METRICS_CSV_COLUMNS.map((col) => cell(record[col])).join(','));
  }
  return rows.join('\r\n') + '\r\n';
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
