import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API_METHODS, WsRequestSchema } from '../../shared/api';
import { forkTrainer } from '../../main/trainer/fork';
import { serve, type Serving } from '../../main/server/serve';
import { mutated, validish } from '../support/schema-arbitrary';
import { writePngDataset } from '../support/faults';

/**
 * WebSocket side: the real browser-mode server (`serve()`: the WorkbenchService over
 * the real engine ports and run store) fed arbitrary frames through a real WebSocket: near misses
 * and valid requests for every API method, arbitrary JSON, non-JSON text, binary frames and
 * oversized frames. Every frame gets an error reply (oversized ones close the socket with 1009),
 * and the server keeps serving. Valid `run:start` requests are left out: they would really train;
 * so are valid `weights:download` requests: they would download ImageNet weights.
 */
let root: string;
let serving: Serving;
let forks = 0;

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fault-ws-'));
  fs.mkdirSync(path.join(root, 'static'));
  fs.writeFileSync(path.join(root, 'static', 'index.html'), '<!doctype html><title>fault suite</title>');
  await writePngDataset(path.join(root, 'data'), 2);
  serving = await serve({
    bind: '127.0.0.1', port: 0, roots: [path.join(root, 'data')], runsDir: path.join(root, 'runs'),
    staticDir: path.join(root, 'static'),
    createChannel: () => {
      forks++;
      return forkTrainer({ stdio: 'ignore' });
    },
  });
});

afterAll(async () => {
  await serving.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function connect(): Promise<WebSocket> {
  const { port, token } = serving.server;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`, { headers: { Origin: `http://127.0.0.1:${port}` } });
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}

type Reply = { kind: 'reply'; id: number | null; ok: boolean; value?: unknown; error?: { message: string } };

/** Sends one frame; resolves with the next reply, or with the close code when the server closes. */
function ask(ws: WebSocket, frame: string | Buffer, binary = false): Promise<Reply | { closed: number }> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const msg = JSON.parse(data.toString()) as Reply | { kind: 'events' };
      if (msg.kind !== 'reply') return;
      done();
      resolve(msg);
    };
    const onClose = (code: number) => {
      done();
      resolve({ closed: code });
    };
    const done = () => {
      ws.off('message', onMessage);
      ws.off('close', onClose);
    };
    ws.on('message', onMessage);
    ws.on('close', onClose);
    ws.send(frame, { binary });
  });
}

const methods = Object.values(API_METHODS);

describe('the real serve server fed arbitrary WebSocket frames', () => {
  it('answers every frame with an error (or 1009 for oversize) and keeps serving', async () => {
    let ws = await connect();
    const tally = { frames: 0, requests: 0, validRequests: 0, nonJson: 0, binary: 0, oversized: 0, errors: 0 };
    const channelArb = fc.constantFrom(...methods.map((m) => m.channel), 'x:y', '', 'run:start '.repeat(7), '__proto__');
    const request = fc.oneof(
      ...methods.map((m) => fc.tuple(fc.constant(m.channel), fc.oneof(mutated(m.request), validish(m.request)))),
      fc.tuple(channelArb, fc.jsonValue()),
    ).map(([channel, payload]) => ({ channel, payload }))
      .filter(({ channel, payload }) => !(channel === 'run:start' && API_METHODS.startRun.request.safeParse(payload).success))
      // A valid download request would fetch ImageNet weights from the internet.
      .filter(({ channel, payload }) => !(channel === 'weights:download' && API_METHODS.downloadPretrained.request.safeParse(payload).success));
    const frame = fc.oneof(
      { arbitrary: fc.tuple(fc.nat(), request).map(([id, r]) => ({ text: JSON.stringify({ id, ...r }), kind: 'request' as const })), weight: 6 },
      { arbitrary: mutated(WsRequestSchema).map((m) => ({ text: JSON.stringify(m) ?? 'undefined', kind: 'request' as const })), weight: 2 },
      { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).filter((s) => { try { JSON.parse(s); return false; } catch { return true; } }).map((text) => ({ text, kind: 'nonJson' as const })), weight: 1 },
      { arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => ({ text: Buffer.from(b), kind: 'binary' as const })), weight: 1 },
    );
    await fc.assert(
      fc.asyncProperty(frame, async (f) => {
        tally.frames++;
        const reply = await ask(ws, f.text, f.kind === 'binary');
        if ('closed' in reply) throw new Error(`The server closed the socket (${reply.closed}) on a small frame: ${String(f.text).slice(0, 200)}`);
        expect(reply.kind).toBe('reply');
        if (f.kind === 'request') {
          tally.requests++;
          if (reply.ok) tally.validRequests++;
        } else {
          tally[f.kind]++;
          expect(reply.ok).toBe(false);
        }
        if (!reply.ok) {
          tally.errors++;
          expect(reply.error!.message.length).toBeGreaterThan(10);
        }
      }),
      { numRuns: 800, seed: 12 },
    );
    // Oversized frames close that socket (1009); the server keeps serving new ones.
    for (const size of [1024 * 1024 + 1, 8 * 1024 * 1024]) {
      tally.frames++;
      tally.oversized++;
      const r = await ask(ws, JSON.stringify({ id: 1, channel: 'run:list', payload: 'x'.repeat(size) }));
      expect(r).toEqual({ closed: 1009 });
      ws = await connect();
    }
    const info = await ask(ws, JSON.stringify({ id: 7, channel: 'app:info' }));
    expect(info).toMatchObject({ kind: 'reply', id: 7, ok: true });
    ws.close();
    expect(forks, 'a fuzzed request started a trainer').toBe(0);
    console.log(`[faults] serve WebSocket: ${tally.frames} frames (${tally.requests} requests, ${tally.nonJson} non-JSON, ${tally.binary} binary, ${tally.oversized} oversized); `
      + `${tally.errors} error replies, ${tally.validRequests} valid requests answered ok, ${tally.oversized} sockets closed with 1009; server up throughout.`);
  });
});
