import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listCheckpoints, loadCheckpoint } from '../../main/engine/runs/checkpoint';
import { readMetrics, readRunStatus } from '../../main/engine/runs/run-store';
import { alive, waitGone, writePngDataset } from '../support/faults';

/**
 * SIGKILL the real `densenet-workbench train` host while its trainer child trains.
 * The trainer must notice that its parent is gone (the IPC channel disconnects), stop at the next
 * step with a checkpoint and exit, leaving no orphan; `runs --json` then lists the run as
 * interrupted, and `resume RUN` continues it from that checkpoint.
 */
const BIN = path.resolve('bin/densenet-workbench.mjs');
let root: string;
let dataDir: string;
let runsDir: string;
const children: ChildProcess[] = [];
const trainerPids: number[] = [];

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fault-host-'));
  dataDir = path.join(root, 'data');
  runsDir = path.join(root, 'runs');
  await writePngDataset(dataDir, 16);
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  // An orphan would be a failure reported by the test itself; never leave one running either way.
  for (const pid of trainerPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  fs.rmSync(root, { recursive: true, force: true });
});

/** Runs the CLI with `args`; resolves on the first JSON line that `until` accepts. */
function cli(args: string[], until: (event: { type?: string; step?: number }) => boolean): { child: ChildProcess; found: Promise<{ type?: string; step?: number }> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += String(d); });
  const found = new Promise<{ type?: string; step?: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`No matching event from ${args[0]} in 120 s; stderr: ${stderr.slice(-800)}`)), 120_000);
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      let e: { type?: string; step?: number };
      try { e = JSON.parse(line); } catch { return; }
      if (until(e)) {
        clearTimeout(timer);
        resolve(e);
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited (${code ?? signal}) before the event; stderr: ${stderr.slice(-800)}`));
    });
  });
  found.catch(() => undefined);
  return { child, found };
}

function onlyRun(dir = runsDir): string {
  const ids = fs.readdirSync(dir).filter((n) => fs.existsSync(path.join(dir, n, 'config.json')));
  expect(ids).toHaveLength(1);
  return ids[0];
}

function loggedSteps(runDir: string): number[] {
  return readMetrics(runDir).events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step);
}

describe('the CLI host killed with SIGKILL during training', () => {
  it('leaves no orphan trainer, lists the run as interrupted, and resumes it', async () => {
    const train = cli(
      ['train', '--variant', 'demo-bc-tiny', '--data', dataDir, '--input', '8x8x1', '--epochs', '500', '--batch', '8',
        '--backend', 'wasm', '--val-fraction', '0.2', '--no-augment', '--runs', runsDir, '--json'],
      (e) => e.type === 'step' && (e.step ?? 0) >= 3,
    );
    const lastSeen = await train.found;
    const runId = onlyRun();
    const runDir = path.join(runsDir, runId);
    const trainerPid = readRunStatus(runDir)!.pid!;
    trainerPids.push(trainerPid);
    expect(trainerPid).not.toBe(train.child.pid);
    expect(alive(trainerPid)).toBe(true);

    const hostExit = new Promise((r) => train.child.once('exit', r));
    train.child.kill('SIGKILL');
    await hostExit;

    // The trainer notices, checkpoints and goes: no orphan keeps training.
    expect(await waitGone(trainerPid, 60_000), `trainer ${trainerPid} outlived its host`).toBe(true);
    const status = readRunStatus(runDir)!;
    expect(status).toMatchObject({ status: 'interrupted', pid: null });
    expect(status.message).toMatch(/left without its host/);
    const ckpt = loadCheckpoint(runDir, 'latest').manifest;
    expect(ckpt.reason).toBe('stop');
    expect(ckpt.step).toBeGreaterThanOrEqual(lastSeen.step!);
    const logged = readMetrics(runDir);
    expect(logged.skipped).toBe(0);
    const steps = logged.events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step);
    expect(steps).toEqual(Array.from({ length: ckpt.step }, (_, i) => i + 1));

    // On the next start the run is listed as interrupted...
    const listed = spawnSync(process.execPath, [BIN, 'runs', '--runs', runsDir, '--json'], { encoding: 'utf8' });
    expect(listed.status, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: runId, status: 'interrupted' })]);

    // ...and `resume` continues it from the checkpoint's step; a Ctrl-C then stops it cleanly.
    const resume = cli(['resume', runId, '--runs', runsDir, '--json'], (e) => e.type === 'step');
    const first = await resume.found;
    expect(first.step).toBe(ckpt.step + 1);
    const resumedPid = readRunStatus(runDir)!.pid!;
    trainerPids.push(resumedPid);
    const code = new Promise<number | null>((r) => resume.child.once('exit', (c) => r(c)));
    resume.child.kill('SIGINT');
    expect(await code).toBe(0);
    expect(await waitGone(resumedPid, 30_000)).toBe(true);
    expect(readRunStatus(runDir)).toMatchObject({ status: 'finished', reason: 'stopped', pid: null });
    expect(listCheckpoints(runDir)[0].step).toBeGreaterThan(ckpt.step);
    const after = readMetrics(runDir).events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step);
    expect(after.slice(0, steps.length)).toEqual(steps);
    expect(after[steps.length]).toBe(ckpt.step + 1);
    console.log(`[faults] killed host: CLI train SIGKILLed at step ≥${lastSeen.step}; its trainer (pid ${trainerPid}) checkpointed at step ${ckpt.step} and exited, no orphan; `
      + `runs --json said interrupted; resume went on from step ${ckpt.step + 1} and stopped cleanly at step ${listCheckpoints(runDir)[0].step}; ${after.length} step lines, none torn.`);
  });

  it('when host and trainer die together, lists the run as interrupted and resumes it past the stale lock', async () => {
    const out = path.join(root, 'runs-both');
    // Checkpoint every 2 steps (--checkpoint-every is not a CLI flag): start through the CLI, which
    // keeps the default of 200, so the resume below may start over from step 1; both are valid.
    const train = cli(
      ['train', '--variant', 'demo-bc-tiny', '--data', dataDir, '--input', '8x8x1', '--epochs', '500', '--batch', '8',
        '--backend', 'wasm', '--val-fraction', '0.2', '--no-augment', '--runs', out, '--json'],
      (e) => e.type === 'step' && (e.step ?? 0) >= 2,
    );
    await train.found;
    const runId = onlyRun(out);
    const runDir = path.join(out, runId);
    const trainerPid = readRunStatus(runDir)!.pid!;
    trainerPids.push(trainerPid);
    // Both at once, as the OOM killer or a closed terminal's process group would.
    process.kill(trainerPid, 'SIGKILL');
    train.child.kill('SIGKILL');
    expect(await waitGone(trainerPid, 30_000)).toBe(true);
    expect(fs.existsSync(path.join(runDir, 'trainer.lock'))).toBe(true); // nobody was left to release it
    expect(readRunStatus(runDir)!.status).toBe('running'); // ...nor to rewrite the status
    const before = loggedSteps(runDir);

    const listed = spawnSync(process.execPath, [BIN, 'runs', '--runs', out, '--json'], { encoding: 'utf8' });
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id: runId, status: 'interrupted' })]);

    const expected = listCheckpoints(runDir).length > 0 ? loadCheckpoint(runDir, 'latest').manifest.step + 1 : 1;
    const resume = cli(['resume', runId, '--runs', out, '--json'], (e) => e.type === 'step');
    expect((await resume.found).step).toBe(expected);
    const resumedPid = readRunStatus(runDir)!.pid!;
    trainerPids.push(resumedPid);
    const code = new Promise<number | null>((r) => resume.child.once('exit', (c) => r(c)));
    resume.child.kill('SIGINT');
    expect(await code).toBe(0);
    expect(await waitGone(resumedPid, 30_000)).toBe(true);
    expect(readRunStatus(runDir)).toMatchObject({ status: 'finished', reason: 'stopped', pid: null });
    expect(fs.existsSync(path.join(runDir, 'trainer.lock'))).toBe(false);
    expect(loggedSteps(runDir).slice(0, before.length)).toEqual(before);
    console.log(`[faults] killed host and trainer together at step ${before.at(-1)}: runs --json said interrupted; resume took over the stale lock and went on from step ${expected}.`);
  });
});
