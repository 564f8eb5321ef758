import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import WebSocket from 'ws';
import type { DenseNetConfig } from '../../shared/config';
import type { TrainerEvent } from '../../shared/protocol';
import { TrainSettingsSchema, type TrainSettings } from '../../shared/training';
import type { TrainerHost } from '../../main/trainer/host';
import { seededRandom, tinyConfig } from './tiny-models';

export { seededRandom };

/**
 * Shared pieces of the fault suite: a tiny DenseNet-BC that trains in a fraction of a
 * second a step, a small PNG dataset written once per file, a seeded RNG so every "random" kill
 * point is reproducible from the seed printed in the output, and an event recorder for a TrainerHost.
 */

/** 8×8×1, k=4, blocks [2, 2]: the smallest net that still has bottlenecks, transitions and two blocks. */
export const FAULT_MODEL: DenseNetConfig = tinyConfig({ variant: 'fault-tiny', inputShape: [8, 8, 1] });

/**
 * Checkpoints every 2 steps (and at each epoch end), so a random kill often lands in or near a
 * checkpoint write; epochs far beyond what a trial runs, so no trial finishes on its own.
 */
export function faultSettings(overrides: Record<string, unknown> = {}): TrainSettings {
  return TrainSettingsSchema.parse({
    epochs: 500, batchSize: 8, lr: 0.05, backend: 'wasm', seed: 9, valFraction: 0.2,
    checkpointEvery: 2, keepCheckpoints: 2, statsEvery: 0, gradientsEvery: 0,
    augment: { padCrop: false, flip: false }, ...overrides,
  });
}

/**
 * Writes `<dir>/<class>/<n>.png`: 8×8 grayscale images whose class is where a bright bar lies
 * (top rows, middle rows, left columns), plus noise, so the net has something learnable.
 */
export async function writePngDataset(dir: string, perClass = 16, seed = 1): Promise<string[]> {
  const rand = seededRandom(seed);
  const classes = ['top', 'middle', 'left'];
  for (const [cls, name] of classes.entries()) {
    fs.mkdirSync(path.join(dir, name), { recursive: true });
    for (let n = 0; n < perClass; n++) {
      const px = Buffer.alloc(64);
      for (let r = 0; r < 8; r++) {
        for (let c = 0; c < 8; c++) {
          const on = (cls === 0 && r < 2) || (cls === 1 && r >= 3 && r < 5) || (cls === 2 && c < 2);
          px[r * 8 + c] = Math.min(255, Math.round(rand() * 70 + (on ? 180 : 0)));
        }
      }
      await sharp(px, { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(path.join(dir, name, `${n}.png`));
    }
  }
  return classes;
}

/** Every validated event of a host, with waits on a predicate. */
export class EventLog {
  readonly events: TrainerEvent[] = [];
  private readonly off: () => void;

  constructor(private readonly host: TrainerHost) {
    this.off = host.on('event', (e) => this.events.push(e));
  }

  waitFor<T extends TrainerEvent>(pred: (e: TrainerEvent) => e is T, timeoutMs?: number): Promise<T>;
  waitFor(pred: (e: TrainerEvent) => boolean, timeoutMs?: number): Promise<TrainerEvent>;
  waitFor(pred: (e: TrainerEvent) => boolean, timeoutMs = 90_000): Promise<TrainerEvent> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`Timed out after ${timeoutMs} ms; last events: ${JSON.stringify(this.events.slice(-3)).slice(0, 600)}`));
      }, timeoutMs);
      const offEvent = this.host.on('event', (e) => {
        if (pred(e)) {
          stop();
          resolve(e);
        }
      });
      const offExit = this.host.on('exit', (x) => {
        stop();
        reject(new Error(`The trainer exited while a test waited for an event: ${x.message}`));
      });
      const stop = () => {
        clearTimeout(timer);
        offEvent();
        offExit();
      };
    });
  }

  steps(): Extract<TrainerEvent, { type: 'step' }>[] {
    return this.events.filter((e): e is Extract<TrainerEvent, { type: 'step' }> => e.type === 'step');
  }

  dispose(): void {
    this.off();
  }
}

/** True while `pid` is a live process (signal 0 probes without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Polls until `pid` is gone; false when it still runs after `timeoutMs`. Zombies count as gone. */
export async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!alive(pid) || isZombie(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return !alive(pid) || isZombie(pid);
}

function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One request over a fresh WebSocket to a running `serve`, answered with its reply frame. */
export async function wsCall(
  server: { port: number; token: string },
  channel: string,
  payload: unknown,
): Promise<{ ok: boolean; value?: unknown; error?: { message: string } }> {
  const { port, token } = server;
  const ws = await new Promise<WebSocket>((resolve, reject) => {
    const s = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`, { headers: { Origin: `http://127.0.0.1:${port}` } });
    s.on('open', () => resolve(s));
    s.on('error', reject);
  });
  try {
    return await new Promise((resolve) => {
      ws.on('message', (data) => {
        const msg = JSON.parse(data.toString());
        if (msg.kind === 'reply') resolve(msg);
      });
      ws.send(JSON.stringify({ id: 1, channel, payload }));
    });
  } finally {
    ws.close();
  }
}
