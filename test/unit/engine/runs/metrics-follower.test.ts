import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { MetricsFollower } from '../../../../main/engine/runs/metrics-follower';
import { encodeMetricsLine } from '../../../../main/engine/runs/metrics-log';
import type { TrainerEvent } from '../../../../shared/protocol';

let dir: string;
let file: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dw-follow-'));
  file = path.join(dir, 'metrics.jsonl');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const log = (n: number): TrainerEvent => ({ type: 'log', level: 'info', message: `line ${n}`, time: n });

it('hands over the events appended since it started, a line only once its newline is written, and starts over when the file is replaced', () => {
  fs.writeFileSync(file, encodeMetricsLine(log(1)));
  const seen: TrainerEvent[] = [];
  const f = new MetricsFollower(file, (e) => seen.push(...e));
  expect(f.poll()).toEqual([]);
  const two = encodeMetricsLine(log(2));
  fs.appendFileSync(file, two.slice(0, 20));
  expect(f.poll()).toEqual([]);
  fs.appendFileSync(file, two.slice(20) + encodeMetricsLine(log(3)));
  expect(f.poll()).toEqual([log(2), log(3)]);
  // A torn or corrupt line is skipped, as every reader of the log skips it.
  fs.appendFileSync(file, '{"crc":"00000000","len":3,"event":{}}\n' + encodeMetricsLine(log(4)));
  expect(f.poll()).toEqual([log(4)]);
  fs.writeFileSync(file, encodeMetricsLine(log(5)));
  expect(f.poll()).toEqual([log(5)]);
  expect(seen.map((e) => (e as { time: number }).time)).toEqual([2, 3, 4, 5]);
  expect(new MetricsFollower(path.join(dir, 'none.jsonl'), () => undefined).poll()).toEqual([]);
});
