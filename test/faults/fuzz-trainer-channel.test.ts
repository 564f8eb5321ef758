import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainerCommandSchema, type TrainerEvent } from '../../shared/protocol';
import { forkTrainerHost, type TrainerHost } from '../../main/trainer/host';
import { EventLog, waitGone } from '../support/faults';
import { mutated, validish } from '../support/schema-arbitrary';

/**
 * Trainer side: arbitrary and near-miss commands sent to a real trainer process over
 * its real IPC channel. Each one must be answered by exactly one `error` event (ProtocolError for a
 * malformed command; a valid command with no run to act on gets its own error), and the process
 * must keep running and answering.
 */
let host: TrainerHost;
let log: EventLog;

beforeAll(async () => {
  host = forkTrainerHost({ stdio: 'ignore' });
  log = new EventLog(host);
  await host.ready;
});

afterAll(async () => {
  if (host.alive) await host.close(10_000);
  if (host.pid) await waitGone(host.pid, 10_000);
});

/**
 * Valid `start` and `resumeRun` commands would really train, and a valid `inspectRun` really opens
 * a run (test/integration/inspect-worker.test.ts covers it); everything else is fair game.
 */
function harmless(m: unknown): boolean {
  const parsed = TrainerCommandSchema.safeParse(m);
  return !parsed.success || !['start', 'resumeRun', 'inspectRun'].includes(parsed.data.type);
}

async function answer(m: unknown): Promise<Extract<TrainerEvent, { type: 'error' }>> {
  const reply = log.waitFor((e): e is Extract<TrainerEvent, { type: 'error' }> => e.type === 'error', 30_000);
  try {
    host.sendRaw(m);
  } catch (err) {
    reply.catch(() => undefined);
    throw err;
  }
  return reply;
}

describe('a real trainer process fed malformed commands', () => {
  it('answers every one with an error event and keeps running', async () => {
    const schemas = TrainerCommandSchema.options;
    const message = fc.oneof(
      ...schemas.map((s) => mutated(s)),
      ...schemas.map((s) => validish(s)),
      fc.jsonValue(),
    ).filter((m) => m !== undefined && harmless(m)); // undefined is no message: IPC refuses to send it
    let sent = 0;
    let malformed = 0;
    await fc.assert(
      fc.asyncProperty(message, async (m) => {
        sent++;
        // JSON serialization is what the channel does to it; judge what the trainer will see.
        const seen = JSON.parse(JSON.stringify(m) ?? 'null') as unknown;
        const bad = !TrainerCommandSchema.safeParse(seen).success;
        if (bad) malformed++;
        const err = await answer(m);
        expect(err.fatal).toBe(false);
        if (bad) expect(err.error).toMatchObject({ name: 'ProtocolError', message: expect.stringMatching(/^Rejected a malformed command/) });
        else expect(err.error.message).toMatch(/No run is training|No inspection \S+ is in progress/);
      }),
      { numRuns: 1500, seed: 4 },
    );
    // Framing extremes: huge, deeply nested, prototype keys, every JSON scalar.
    const deep: unknown[] = [];
    let cur = deep;
    // 1,000 levels: the sender's own JSON.stringify overflows its stack somewhere past that.
    for (let i = 0; i < 1000; i++) {
      const next: unknown[] = [];
      cur.push(next);
      cur = next;
    }
    const extremes: unknown[] = [
      { type: 'start', runDir: 'x'.repeat(8 * 1024 * 1024) },
      'x'.repeat(8 * 1024 * 1024),
      deep,
      JSON.parse('{"__proto__": {"type": "pause"}}'),
      { type: 'constructor' }, { type: 'toString' }, { type: 'inspect', what: '__proto__' },
      null, 0, -1, true, '', [], {},
    ];
    for (const m of extremes) {
      sent++;
      malformed++;
      const err = await answer(m);
      expect(err.error.name).toBe('ProtocolError');
    }
    // Still alive and obeying valid commands.
    expect(host.alive).toBe(true);
    expect((await answer({ type: 'pause' })).error.message).toBe('No run is training; cannot pause.');
    console.log(`[faults] trainer channel: ${sent} commands sent to a real trainer process (${malformed} malformed, ${sent - malformed} valid but with no run), ${sent} error replies, process alive throughout.`);
  });
});
