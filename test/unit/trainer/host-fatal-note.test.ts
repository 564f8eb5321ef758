import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fatalNotePath } from '../../../main/engine/backend/wasm/fatal-note';
import { TrainerHost } from '../../../main/trainer/host';
import type { TrainerChannel, TrainerExit } from '../../../main/trainer/channel';
import { tinyConfig } from '../../support/tiny-models';
import { defaultTrainSettings } from '../../../shared/training';

// A trainer that ended itself because a wasm worker thread faulted (it leaves a fatal note, then
// SIGKILLs itself) is reported with that reason, and its run is marked failed, not interrupted.
class FakeChannel implements TrainerChannel {
  listener: ((m: unknown) => void) | null = null;
  exitListener: ((x: TrainerExit) => void) | null = null;
  readonly sent: unknown[] = [];
  constructor(readonly pid: number) {}
  send(m: unknown): void { this.sent.push(m); }
  onMessage(l: (m: unknown) => void): void { this.listener = l; }
  onExit(l: (x: TrainerExit) => void): void { this.exitListener = l; }
  kill(): void { /* nothing to kill */ }
}

describe('TrainerHost and a trainer that ended itself', () => {
  it('reads its fatal note and marks the live run failed with it', async () => {
    const pid = 3_000_000 + (process.pid % 100_000);
    const note = 'An XNNPACK worker thread of the wasm backend failed (memory access out of bounds); the process ends.';
    fs.writeFileSync(fatalNotePath(pid), note);
    const channel = new FakeChannel(pid);
    const host = new TrainerHost(channel);
    channel.listener!({ type: 'ready', pid, protocol: 1 });
    await host.ready;
    const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dnw-fatal-'));
    const run = host.start({ runsDir, model: tinyConfig(), settings: defaultTrainSettings(), dataset: { kind: 'builtin', name: 'mnist' } });
    channel.listener!({ type: 'state', state: 'running', runId: run.runId });
    const exited = new Promise<{ message: string }>((resolve) => host.on('exit', resolve));
    channel.exitListener!({ code: null, signal: 'SIGKILL' });
    const exit = await exited;
    expect(exit.message).toBe(`The trainer process was killed by SIGKILL during run ${run.runId}: ${note}; the run is marked failed and can be resumed from its last checkpoint.`);
    expect(host.runState?.status).toBe('failed');
    expect(fs.existsSync(fatalNotePath(pid))).toBe(false);
    fs.rmSync(runsDir, { recursive: true, force: true });
  });
});
