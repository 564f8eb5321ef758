import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { EVENT_CHANNEL, type ApiReply, type HostEvent, type RunInfo } from '../../../shared/api';
import { getPreset } from '../../../shared/presets';
import type { TrainerEvent } from '../../../shared/protocol';
import { TrainSettingsSchema } from '../../../shared/training';
import { WorkbenchService } from '../../../main/host/workbench-service';
import { Roots } from '../../../main/host/roots';
import type { EnginePorts, TrainerPort } from '../../../main/host/ports';
import { DROP_CHANNEL } from '../../../main/electron/channels';
import { createDesktop } from '../../../main/electron/desktop';
import { APP_ORIGIN } from '../../../main/electron/app-protocol';
import { weightsPort } from '../../../main/host/weights-port';

// The desktop shell around the real WorkbenchService (the one browser mode uses), with the engine
// replaced by fakes: IPC in, events out to the window, the menu, recent runs, drops, and a trainer
// that crashes mid-run.

const tmp = mkdtempSync(join(tmpdir(), 'wb-desktop-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface FakeTrainer extends TrainerPort {
  sent: unknown[];
  emit(event: TrainerEvent): void;
  exit(code: number | null, signal: string | null, message?: string): void;
}

function fakeTrainer(runsDir: string, runs: Map<string, RunInfo>): FakeTrainer {
  const events: ((e: TrainerEvent) => void)[] = [];
  const exits: ((e: { code: number | null; signal: string | null; message?: string }) => void)[] = [];
  const t: FakeTrainer = {
    sent: [],
    start: (r) => {
      const runId = `run-${runs.size + 1}`;
      runs.set(runId, { id: runId, name: r.name ?? `Run ${runs.size + 1}`, status: 'running', reason: null, created: new Date(0).toISOString(), variant: r.model.variant, dataset: 'mnist', epoch: 0, epochs: 1, step: 0, bestValAccuracy: null, lastValAccuracy: null });
      t.sent.push({ type: 'start', runDir: join(runsDir, runId) });
      return { runId, runDir: join(runsDir, runId) };
    },
    resumeRun: (dir) => ({ runId: basename(dir), runDir: dir }),
    send: (c) => void t.sent.push(c),
    onEvent: (l) => void events.push(l),
    onExit: (l) => void exits.push(l),
    close: async () => undefined,
    kill: () => undefined,
    emit: (e) => events.forEach((l) => l(e)),
    exit: (code, signal, message) => exits.splice(0).forEach((l) => l({ code, signal, message })),
  };
  return t;
}

async function setup() {
  const trainers: FakeTrainer[] = [];
  const runs = new Map<string, RunInfo>();
  const runsDir = join(tmp, 'runs');
  const ports: EnginePorts = {
    spawnTrainer: () => {
      const t = fakeTrainer(runsDir, runs);
      trainers.push(t);
      return t;
    },
    runs: {
      list: async () => [...runs.values()],
      open: async () => {
        throw new Error('not used');
      },
      events: async () => [],
      rename: async () => {
        throw new Error('not used');
      },
      remove: async () => undefined,
    },
    scan: async () => {
      throw new Error('not used');
    },
    backendInfo: async () => ({ name: 'cpu', flavour: 'js', version: '4.22.0', device: 'cpu', threads: 1, skipped: [] }),
    exportRun: async () => ({ outDir: '', files: [] }),
    weights: weightsPort({ TORCH_HOME: join(tmp, 'torch-home') }),
  };
  const service = new WorkbenchService({ ports, roots: await Roots.create([tmp]), runsDir: join(tmp, 'runs'), mode: 'electron', version: '0.0.0', restrictPaths: false });

  const handlers = new Map<string, (event: unknown, payload: unknown) => Promise<ApiReply>>();
  const pushed: HostEvent[] = [];
  const menus: MenuItemConstructorOptions[][] = [];
  const boxes: string[] = [];
  const desktop = createDesktop({
    ipcMain: { handle: (c: string, h: never) => handlers.set(c, h), removeHandler: (c: string) => handlers.delete(c) } as never,
    dialog: {
      showOpenDialog: async () => ({ canceled: false, filePaths: [join(tmp, 'data')] }),
      showMessageBox: async (opts: { message: string }) => (boxes.push(opts.message), { response: 0, checkboxChecked: false }),
    } as never,
    setMenu: (t) => menus.push(t),
    app: { addRecentDocument: () => undefined, clearRecentDocuments: () => undefined, name: 'DenseNet Workbench', platform: 'linux' },
    window: () => ({ isDestroyed: () => false, webContents: { send: (channel: string, batch: HostEvent[]) => channel === EVENT_CHANNEL && pushed.push(...batch) } }),
    service,
    allowedOrigins: [APP_ORIGIN],
    runsDir: join(tmp, 'runs'),
    userData: join(tmp, 'user-data'),
    openExternal: () => undefined,
    log: () => undefined,
  });
  const sender = { senderFrame: { origin: APP_ORIGIN, url: `${APP_ORIGIN}/index.html`, parent: null } };
  const invoke = (channel: string, payload?: unknown) => handlers.get(channel)!(sender, payload);
  const menuItem = (label: string) => {
    const flat = (items: MenuItemConstructorOptions[]): MenuItemConstructorOptions[] => items.flatMap((i) => [i, ...(Array.isArray(i.submenu) ? flat(i.submenu) : [])]);
    return flat(menus.at(-1)!).find((i) => i.label === label);
  };
  return { desktop, trainers, pushed, menus, boxes, invoke, handlers, menuItem };
}

const startRequest = {
  model: getPreset('demo-bc-tiny', { inputShape: [8, 8, 1], classes: 10 }),
  settings: TrainSettingsSchema.parse({ epochs: 1, backend: 'cpu' }),
  dataset: { kind: 'builtin', name: 'mnist', limit: 100 },
};

describe('desktop shell', () => {
  it('reports a crashed trainer to the window, marks the run failed, and stays usable', async () => {
    const d = await setup();
    const started = await d.invoke('run:start', startRequest);
    expect(started).toEqual({ ok: true, value: { runId: 'run-1' } });
    expect(d.trainers[0].sent[0]).toMatchObject({ type: 'start', runDir: join(tmp, 'runs', 'run-1') });
    d.trainers[0].emit({ type: 'state', state: 'running', runId: 'run-1' });
    d.trainers[0].exit(137, null, 'The trainer process exited with code 137 during run run-1; the run is marked failed and can be resumed from its last checkpoint.');

    await vi.waitFor(() => expect(d.pushed.some((e) => e.type === 'trainerExit')).toBe(true), { timeout: 2000 });
    const exit = d.pushed.find((e) => e.type === 'trainerExit')!;
    expect(exit).toMatchObject({ runId: 'run-1', code: 137, message: expect.stringMatching(/marked failed/) });
    await expect(d.invoke('run:active')).resolves.toMatchObject({ ok: true, value: { runId: 'run-1', status: 'failed' } });

    // The app goes on: a new run starts in a fresh trainer.
    await expect(d.invoke('run:start', startRequest)).resolves.toEqual({ ok: true, value: { runId: 'run-2' } });
    expect(d.trainers).toHaveLength(2);
    await vi.waitFor(() => expect(d.menuItem('Run 2')).toBeDefined());
    expect(d.menuItem('Run 1')).toBeDefined();
  });

  it('turns a dropped folder into a datasetChosen event and refuses a dropped file', async () => {
    const d = await setup();
    const folder = join(tmp, 'cifar');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(tmp, 'notes.txt'), 'x');
    await expect(d.invoke(DROP_CHANNEL, folder)).resolves.toEqual({ ok: true, value: null });
    const refused = await d.invoke(DROP_CHANNEL, join(tmp, 'notes.txt'));
    expect(refused.ok).toBe(false);
    expect(d.pushed).toEqual([
      expect.objectContaining({ type: 'datasetChosen', path: folder, source: 'drop' }),
      expect.objectContaining({ type: 'log', level: 'warn', message: expect.stringMatching(/is a file/) }),
    ]);
  });

  it('runs menu commands through the service and shows why one was refused', async () => {
    const d = await setup();
    (d.menuItem('Pause Training')!.click as () => void)();
    await vi.waitFor(() => expect(d.boxes).toEqual([expect.stringMatching(/no run is training/)]));
    mkdirSync(join(tmp, 'data'), { recursive: true });
    (d.menuItem('Open Dataset Folder…')!.click as () => void)();
    await vi.waitFor(() => expect(d.pushed).toEqual([expect.objectContaining({ type: 'datasetChosen', path: join(tmp, 'data'), source: 'menu' })]));
  });

  it('opens a run folder from the OS only when it belongs to the run store', async () => {
    const d = await setup();
    d.desktop.openRunFolder(join(tmp, 'runs', 'run-7'));
    d.desktop.openRunFolder('/etc');
    expect(d.pushed).toEqual([expect.objectContaining({ type: 'openRunRequest', runId: 'run-7' })]);
  });

  it('removes its IPC handlers on dispose', async () => {
    const d = await setup();
    expect(d.handlers.size).toBeGreaterThan(10);
    await d.desktop.dispose();
    expect(d.handlers.size).toBe(0);
  });
});
