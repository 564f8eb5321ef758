import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../../main/engine/runs/checkpoint';
import { readMetrics, readRunStatus } from '../../main/engine/runs/run-store';
import { FAULT_MODEL, alive, faultSettings, waitGone, writePngDataset } from '../support/faults';

/**
 * Browser mode: a real `densenet-workbench serve` trains a run over its WebSocket,
 * the run is paused (the trainer then waits, not between two steps of a loop that checks for its
 * host), and serve is SIGKILLed. The trainer must still notice, checkpoint and exit. A new serve
 * lists the run as interrupted and continues it from the checkpoint's step.
 */
const BIN = path.resolve('bin/densenet-workbench.mjs');
let root: string;
const children: ChildProcess[] = [];
const pids: number[] = [];

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fault-serve-'));
  await writePngDataset(path.join(root, 'data', 'shapes'), 16);
  fs.mkdirSync(path.join(root, 'static'));
  fs.writeFileSync(path.join(root, 'static', 'index.html'), '<!doctype html>');
});

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  fs.rmSync(root, { recursive: true, force: true });
});

interface Client { ws: WebSocket; events: { type: string; step?: number; state?: string }[]; call(channel: string, payload?: unknown): Promise<{ ok: boolean; value?: unknown; error?: { message: string } }>; waitFor(pred: (e: { type: string; step?: number; state?: string }) => boolean): Promise<{ type: string; step?: number }> }

/** Starts `serve` and connects to it with the token it prints. */
async function startServe(): Promise<{ child: ChildProcess; client: Client }> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--no-open', '--root', path.join(root, 'data'), '--runs', path.join(root, 'runs'), '--renderer', path.join(root, 'static')], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += String(d); });
  const url = await new Promise<URL>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = /^DenseNet Workbench: (\S+)$/.exec(line);
      if (m) resolve(new URL(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}): ${stderr}`)));
  });
  const ws = await new Promise<WebSocket>((resolve, reject) => {
    const s = new WebSocket(`ws://${url.host}/ws?token=${url.searchParams.get('token')}`, { headers: { Origin: `http://${url.host}` } });
    s.on('open', () => resolve(s));
    s.on('error', reject);
  });
  const events: Client['events'] = [];
  const waiters: { pred: (e: Client['events'][number]) => boolean; resolve: (e: Client['events'][number]) => void }[] = [];
  const replies = new Map<number, (r: { ok: boolean; value?: unknown; error?: { message: string } }) => void>();
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    if (msg.kind === 'reply') replies.get(msg.id)?.(msg);
    if (msg.kind !== 'events') return;
    for (const e of msg.events) {
      events.push(e);
      for (const w of [...waiters]) if (w.pred(e)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(e); }
    }
  });
  let id = 0;
  const client: Client = {
    ws, events,
    call: (channel, payload) => new Promise((resolve) => {
      replies.set(++id, resolve);
      ws.send(JSON.stringify({ id, channel, payload }));
    }),
    waitFor: (pred) => new Promise((resolve, reject) => {
      const found = events.find(pred);
      if (found) return resolve(found as { type: string; step?: number });
      const timer = setTimeout(() => reject(new Error(`No such event within 120 s; stderr: ${stderr.slice(-600)}`)), 120_000);
      waiters.push({ pred, resolve: (e) => { clearTimeout(timer); resolve(e as { type: string; step?: number }); } });
    }),
  };
  return { child, client };
}

describe('serve killed with SIGKILL while its run is paused', () => {
  it('leaves no orphan trainer; the next serve lists the run interrupted and continues it', async () => {
    const first = await startServe();
    const started = await first.client.call('run:start', {
      name: 'serve kill', model: FAULT_MODEL, settings: faultSettings({ checkpointEvery: 50 }),
      dataset: { kind: 'folder', path: path.join(root, 'data', 'shapes') },
    });
    expect(started.ok, started.error?.message).toBe(true);
    const runId = (started.value as { runId: string }).runId;
    const runDir = path.join(root, 'runs', runId);
    await first.client.waitFor((e) => e.type === 'step' && (e.step ?? 0) >= 3);
    expect((await first.client.call('run:pause')).ok).toBe(true);
    await first.client.waitFor((e) => e.type === 'state' && e.state === 'paused');
    const trainerPid = readRunStatus(runDir)!.pid!;
    pids.push(trainerPid);
    expect(readRunStatus(runDir)!.status).toBe('paused');
    const lastStep = Math.max(...first.client.events.filter((e) => e.type === 'step').map((e) => e.step!));

    first.client.ws.terminate();
    first.child.kill('SIGKILL');
    expect(await waitGone(trainerPid, 60_000), `trainer ${trainerPid} outlived serve`).toBe(true);
    expect(readRunStatus(runDir)).toMatchObject({ status: 'interrupted', pid: null });
    const ckpt = loadCheckpoint(runDir, 'latest').manifest;
    // Paused runs checkpoint where they stand: the last step logged (the UI's events are throttled,
    // so the last one it saw may be older).
    const logged = readMetrics(runDir);
    expect(logged.skipped).toBe(0);
    expect(ckpt.step).toBe(Math.max(...logged.events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step)));
    expect(ckpt.step).toBeGreaterThanOrEqual(lastStep);

    const second = await startServe();
    const list = await second.client.call('run:list');
    expect(list.value).toEqual([expect.objectContaining({ id: runId, status: 'interrupted' })]);
    expect((await second.client.call('run:continue', { runId })).ok).toBe(true);
    const next = await second.client.waitFor((e) => e.type === 'step');
    expect(next.step).toBe(ckpt.step + 1);
    pids.push(readRunStatus(runDir)!.pid!);
    expect((await second.client.call('run:stop')).ok).toBe(true);
    await second.client.waitFor((e) => e.type === 'finished');
    second.client.ws.close();
    const exited = new Promise((r) => second.child.once('exit', r));
    second.child.kill('SIGINT');
    await exited;
    expect(readRunStatus(runDir)).toMatchObject({ status: 'finished', reason: 'stopped', pid: null });
    console.log(`[faults] killed serve: SIGKILLed with run ${runId} paused at step ${lastStep}; its trainer checkpointed at step ${ckpt.step} and exited, no orphan; `
      + `the next serve listed it interrupted and continued from step ${next.step}.`);
  });
});
