import { execFileSync, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TrainerEvent } from '../../shared/protocol';
import { getPreset } from '../../shared/presets';
import { TrainSettingsSchema } from '../../shared/training';
import { readRunStatus } from '../../main/engine/runs/run-store';
import type { TrainerChannel } from '../../main/trainer/channel';
import { forkTrainer, tsxImportArg } from '../../main/trainer/fork';
import { TrainerHost, type HostExit } from '../../main/trainer/host';
import { createUtilityChannel, type ForkUtility, type UtilityProcessLike } from '../../main/electron/utility-channel';

// One suite, two transports: the child_process.fork channel that serve and the CLI use, and the
// Electron utilityProcess channel, each under the Training engine's TrainerHost. Both run the real
// trainer entry (main/trainer/entry.ts) and a real tiny run. Electron's binary is not available here, so utilityProcess.fork is played by
// child_process.fork plus a preload that gives the child Electron's `process.parentPort` and takes
// `process.send` away: the entry's utility-process branch is what runs.

const ROOT = join(import.meta.dirname, '..', '..');
const ENTRY = join(ROOT, 'main', 'trainer', 'entry.ts');
const BUNDLED_ENTRY = join(ROOT, 'dist-electron', 'main', 'trainer', 'entry.js');
const SHIM = join(ROOT, 'test', 'support', 'electron-parent-port-shim.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'wb-channel-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * utilityProcess.fork, as far as a child_process can play it: Electron's events and exit codes.
 * `typescript` runs the entry's sources through tsx; otherwise the entry is a built bundle.
 */
const forkLikeUtility = (typescript: boolean): ForkUtility => (modulePath, args, options) => {
  const child = fork(modulePath, args, {
    execArgv: [...(typescript ? ['--import', tsxImportArg()] : []), '--import', SHIM],
    env: (options.env as NodeJS.ProcessEnv | undefined) ?? process.env,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    // utilityProcess messages are structured clones.
    serialization: 'advanced',
  });
  const utility: UtilityProcessLike = {
    get pid() {
      return child.pid;
    },
    postMessage: (message) => void child.send(message as object),
    kill: () => child.kill('SIGTERM'),
    on(event: string, listener: (...a: never[]) => void) {
      if (event === 'exit') {
        // Electron reports only a code; a signal shows up as the shell's 128 + signal number.
        child.on('exit', (code, signal) => (listener as (c: number) => void)(code ?? 128 + (signal ? constants.signals[signal] : 0)));
      } else (child as EventEmitter).on(event, listener as (...a: unknown[]) => void);
      return utility;
    },
  };
  return utility;
};

const transports: [string, () => TrainerChannel][] = [
  ['child_process.fork (serve, CLI)', () => forkTrainer({ stdio: 'ignore' })],
  ['Electron utilityProcess', () => createUtilityChannel(forkLikeUtility(true), { entry: ENTRY })],
  // What the app really forks: the esbuild bundle from scripts/build-electron.mjs, no tsx.
  ['Electron utilityProcess, bundled entry', () => createUtilityChannel(forkLikeUtility(false), { entry: BUNDLED_ENTRY })],
];

beforeAll(() => {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-electron.mjs')], { cwd: ROOT, stdio: 'ignore' });
});

// Both transports run at once: each test is mostly waiting for its trainer process.
describe.concurrent.each(transports)('TrainerHost over %s', (name, open) => {
  it('speaks the protocol with the real trainer, survives a bad command, trains, and marks a killed run', async ({ onTestFinished }) => {
    const host = new TrainerHost(open());
    // The context's own hook: a module-level onTestFinished is ambiguous between concurrent tests.
    onTestFinished(() => host.kill());
    const events: TrainerEvent[] = [];
    const invalid: unknown[] = [];
    const exits: HostExit[] = [];
    host.on('event', (e) => events.push(e));
    host.on('invalid', (x) => invalid.push(x));
    host.on('exit', (x) => exits.push(x));
    /** The first event passing `test`; fails at once, saying how, if the trainer exits first. */
    const waitFor = (what: string, test: (e: TrainerEvent) => boolean, timeout = 60_000) =>
      new Promise<TrainerEvent>((resolve, reject) => {
        const found = events.find(test);
        if (found) return resolve(found);
        const timer = setTimeout(() => done(new Error(`No ${what} event within ${timeout} ms over ${name}; got ${events.map((e) => e.type).join(', ')}.`)), timeout);
        const offEvent = host.on('event', (e) => test(e) && done(null, e));
        const offExit = host.on('exit', (x) => done(new Error(`The trainer exited before a ${what} event over ${name}: ${x.message}`)));
        function done(err: Error | null, e?: TrainerEvent) {
          clearTimeout(timer);
          offEvent();
          offExit();
          if (err) reject(err);
          else resolve(e!);
        }
      });

    const ready = await host.ready;
    expect(ready).toMatchObject({ protocol: 1, pid: expect.any(Number) });

    host.sendRaw({ type: 'launch', what: 'rockets' });
    const rejected = await waitFor('error', (e) => e.type === 'error');
    expect(rejected).toMatchObject({ fatal: false, error: { name: 'ProtocolError', message: expect.stringMatching(/malformed command/) } });

    const { runDir } = host.start({
      runsDir: join(tmp, name.replace(/\W+/g, '-')),
      model: getPreset('demo-bc-tiny', { inputShape: [8, 8, 1], classes: 10, blocks: [2, 2], growthRate: 4 }),
      settings: TrainSettingsSchema.parse({ epochs: 20, batchSize: 8, backend: 'cpu', valFraction: 0.25, checkpointEvery: 1000, statsEvery: 0, gradientsEvery: 0 }),
      dataset: { kind: 'builtin', name: 'mnist', limit: 64 },
    });
    const step = await waitFor('step', (e) => e.type === 'step', 180_000);
    expect(step).toMatchObject({ runId: basename(runDir), loss: expect.any(Number) });

    // A crash mid-run: the host says so and marks the run (utilityProcess reports only an exit
    // code, so its run is `failed`; a fork child killed by a signal is `interrupted`).
    process.kill(ready.pid, 'SIGKILL');
    await vi.waitFor(() => expect(exits).toHaveLength(1), { timeout: 10_000 });
    expect(exits[0]).toMatchObject({ finished: false, runDir, message: expect.stringMatching(/marked (failed|interrupted) and can be resumed/) });
    expect(readRunStatus(runDir)?.status).toBe(name.startsWith('Electron') ? 'failed' : 'interrupted');
    expect(invalid).toEqual([]);
    // Three trainers share the machine with the rest of the suite: generous, never reached when healthy.
  }, 240_000);
});

describe('utilityProcess channel details', () => {
  function fakeUtility() {
    const emitter = new EventEmitter();
    const posted: unknown[] = [];
    let killed = 0;
    const utility: UtilityProcessLike = {
      pid: 4242,
      postMessage: (m) => void posted.push(m),
      kill: () => (killed++, true),
      on: (event: string, l: (...a: never[]) => void) => emitter.on(event, l as (...a: unknown[]) => void),
    };
    const forkCalls: unknown[][] = [];
    const forkFn: ForkUtility = (...args) => (forkCalls.push(args), utility);
    return { emitter, posted, forkFn, forkCalls, killed: () => killed };
  }

  it('forks the given entry as a named service and holds messages until it has spawned', () => {
    const f = fakeUtility();
    const channel = createUtilityChannel(f.forkFn, { entry: '/app/dist-electron/main/trainer/entry.js' });
    expect(f.forkCalls[0]).toEqual(['/app/dist-electron/main/trainer/entry.js', [], expect.objectContaining({ serviceName: 'DenseNet Workbench trainer' })]);
    channel.send({ type: 'pause' });
    channel.send({ type: 'resume' });
    expect(f.posted).toEqual([]);
    f.emitter.emit('spawn');
    channel.send({ type: 'stop' });
    expect(f.posted).toEqual([{ type: 'pause' }, { type: 'resume' }, { type: 'stop' }]);
  });

  it('tells every exit listener, even one added after the exit, and refuses to send afterwards', async () => {
    const f = fakeUtility();
    const channel = createUtilityChannel(f.forkFn, { entry: 'entry.js' });
    const exits: unknown[] = [];
    channel.onExit((e) => exits.push(e));
    f.emitter.emit('spawn');
    f.emitter.emit('exit', 134);
    channel.onExit((e) => exits.push(e));
    await Promise.resolve();
    expect(exits).toEqual([{ code: 134, signal: null }, { code: 134, signal: null }]);
    expect(() => channel.send({ type: 'stop' })).toThrow(/has exited \(code 134\)/);
    channel.kill();
    expect(f.killed()).toBe(0);
  });
});
