import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TrainerEventSchema } from '../../shared/protocol';
import { TrainerHost } from '../../main/trainer/host';
import type { TrainerChannel, TrainerExit } from '../../main/trainer/channel';
import { EventOrder } from '../../main/trainer/event-order';
import { mutated, validish } from '../support/schema-arbitrary';

/**
 * Host side: whatever a trainer (or something posing as one) sends, the TrainerHost
 * validates it, drops the malformed ones as `invalid` with a reason, passes the valid ones on (unless
 * one cannot follow those before it, a second `ready` say: main/trainer/event-order.ts), and never
 * throws. Every event type of shared/protocol is fuzzed, near misses and valid ones alike.
 */
class FakeChannel implements TrainerChannel {
  listener: ((m: unknown) => void) | null = null;
  exitListener: ((x: TrainerExit) => void) | null = null;
  readonly pid = 424242;
  send(): void { /* the host's commands are not under test here */ }
  onMessage(l: (m: unknown) => void): void { this.listener = l; }
  onExit(l: (x: TrainerExit) => void): void { this.exitListener = l; }
  kill(): void { /* nothing to kill */ }
}

const EVENT_SCHEMAS = TrainerEventSchema.options;

describe('TrainerHost fed arbitrary trainer messages', () => {
  it('passes every valid event, drops every malformed one with a reason, and never throws', async () => {
    const channel = new FakeChannel();
    const host = new TrainerHost(channel);
    let valid = 0;
    let invalid = 0;
    host.on('event', () => valid++);
    host.on('invalid', (x) => {
      expect(x.reason.length).toBeGreaterThan(3);
      invalid++;
    });
    let sent = 0;
    let expectedValid = 0;
    const order = new EventOrder();
    const message = fc.oneof(
      ...EVENT_SCHEMAS.map((s) => mutated(s)),
      ...EVENT_SCHEMAS.map((s) => validish(s)),
      fc.jsonValue(),
      fc.anything(),
    );
    fc.assert(
      fc.property(message, (m) => {
        sent++;
        const parsed = TrainerEventSchema.safeParse(m);
        if (parsed.success && order.check(parsed.data) === null) expectedValid++;
        expect(() => channel.listener!(m)).not.toThrow();
        expect(valid + invalid).toBe(sent);
        expect(valid).toBe(expectedValid);
      }),
      { numRuns: 2000, seed: 9 },
    );
    // It still works as a host afterwards: `ready` resolved (from the first one it was sent), and an exit is reported.
    channel.listener!({ type: 'ready', pid: 1, protocol: 1 });
    await expect(host.ready).resolves.toMatchObject({ type: 'ready' });
    channel.exitListener!({ code: null, signal: 'SIGKILL' });
    expect(host.alive).toBe(false);
    console.log(`[faults] host side: ${sent} trainer messages fuzzed over ${EVENT_SCHEMAS.length} event types; ${expectedValid} valid passed on, ${sent - expectedValid} malformed dropped, 0 crashes.`);
    expect(expectedValid).toBeGreaterThan(100);
    expect(sent - expectedValid).toBeGreaterThan(500);
  });
});
