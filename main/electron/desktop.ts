import { basename, dirname, join, resolve } from 'node:path';
import type { Dialog, IpcMain, MenuItemConstructorOptions, WebContents } from 'electron';
import { EVENT_CHANNEL, RunRefSchema, type HostEvent } from '../../shared/api';
import { WorkbenchError } from '../../shared/errors';
import { checkDatasetFolder, chooseDatasetFolder, chooseExportDir, chooseWeightsFile } from './dialogs';
import { registerIpcRouter, type ApiService } from './ipc-router';
import { menuTemplate, type MenuActions } from './menu';
import { createRecentRuns } from './recent-runs';

/**
 * The desktop features around the shared WorkbenchService: IPC, the menu, native dialogs, recent
 * runs, dropped folders, and event delivery to the window. It takes every Electron piece as an
 * argument, so tests drive it with fakes; main.ts passes the real ones.
 */
export interface DesktopService extends ApiService {
  subscribe(listener: (batch: HostEvent[]) => void): () => void;
  dispose(): Promise<void>;
}

export interface WindowLike {
  isDestroyed(): boolean;
  webContents: Pick<WebContents, 'send'>;
}

export interface DesktopDeps {
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>;
  dialog: Pick<Dialog, 'showOpenDialog' | 'showMessageBox'>;
  setMenu(template: MenuItemConstructorOptions[]): void;
  app: { addRecentDocument(path: string): void; clearRecentDocuments(): void; name: string; platform: NodeJS.Platform };
  /** The workbench window, or null while there is none. */
  window(): WindowLike | null;
  service: DesktopService;
  allowedOrigins: readonly string[];
  runsDir: string;
  userData: string;
  openExternal(url: string): void;
  log(message: string): void;
}

export interface Desktop {
  /** A run folder opened from the OS (Dock recent documents, `open-file`). */
  openRunFolder(path: string): void;
  dispose(): Promise<void>;
}

/** Calls that name a run the user is working with; each one lands in Open Recent Run. */
const RUN_CHANNELS = new Set(['run:start', 'run:open', 'run:continue']);

export function createDesktop(deps: DesktopDeps): Desktop {
  const { service } = deps;
  const parent = () => deps.window() as Parameters<typeof chooseDatasetFolder>[1];
  const push = (events: HostEvent[]) => {
    const win = deps.window();
    if (win && !win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, events);
  };
  const now = () => Date.now();

  const recent = createRecentRuns({
    file: join(deps.userData, 'recent-runs.json'),
    addRecentDocument: deps.app.addRecentDocument,
    clearRecentDocuments: deps.app.clearRecentDocuments,
    onChange: () => buildMenu(),
  });

  const remember = async (runId: string) => {
    const list = await service.call('run:list', undefined);
    const info = list.ok && Array.isArray(list.value) ? (list.value as { id: string; name: string }[]).find((r) => r.id === runId) : undefined;
    recent.add({ runId, label: info?.name || runId, dir: join(deps.runsDir, runId) });
  };

  /** Menu commands answer like the UI's buttons; a refusal is shown, since no page asked. */
  const menuCall = async (channel: string) => {
    const reply = await service.call(channel, undefined);
    if (!reply.ok) await deps.dialog.showMessageBox({ type: 'info', message: reply.error.message, buttons: ['OK'] });
  };

  const chooseDataset = async (source: 'menu' | 'drop', path: string | null) => {
    if (path === null) return;
    const checked = await checkDatasetFolder(path);
    if (!checked.ok) {
      push([{ type: 'log', level: 'warn', message: checked.message, time: now() }]);
      throw new WorkbenchError(checked.message);
    }
    push([{ type: 'datasetChosen', path: checked.path, source, time: now() }]);
  };

  const actions: MenuActions = {
    openDatasetFolder: () => {
      chooseDatasetFolder(deps.dialog, parent())
        .then((path) => chooseDataset('menu', path))
        .catch((err: unknown) => deps.log(String(err)));
    },
    openRecentRun: (runId) => push([{ type: 'openRunRequest', runId, time: now() }]),
    clearRecentRuns: () => recent.clear(),
    pauseRun: () => void menuCall('run:pause'),
    resumeRun: () => void menuCall('run:resume'),
    stopRun: () => void menuCall('run:stop'),
    snapshotRun: () => void menuCall('run:snapshot'),
    openExternal: deps.openExternal,
  };
  function buildMenu() {
    const items = recent.list().map((r) => ({ runId: r.runId, label: r.label }));
    deps.setMenu(menuTemplate({ platform: deps.app.platform, appName: deps.app.name, recent: items, actions }));
  }
  buildMenu();

  const removeRoutes = registerIpcRouter({
    ipcMain: deps.ipcMain,
    allowedOrigins: deps.allowedOrigins,
    onRefused: (channel, reason) => deps.log(`Refused ${channel}: ${reason}`),
    service: {
      call: async (channel, payload) => {
        const reply = await service.call(channel, payload);
        const runId = reply.ok && RUN_CHANNELS.has(channel) ? (reply.value as { runId?: unknown } | null)?.runId ?? (payload as { runId?: unknown })?.runId : undefined;
        if (typeof runId === 'string') remember(runId).catch((err: unknown) => deps.log(`Could not update recent runs: ${String(err)}`));
        return reply;
      },
    },
    desktop: {
      chooseFolder: (request) =>
        request.purpose === 'dataset' ? chooseDatasetFolder(deps.dialog, parent()) : chooseExportDir(deps.dialog, parent(), request.defaultPath),
      chooseFile: (request) => chooseWeightsFile(deps.dialog, parent(), request.defaultPath),
      folderDropped: (path) => chooseDataset('drop', path),
    },
  });

  const unsubscribe = service.subscribe(push);

  return {
    openRunFolder(path) {
      const dir = resolve(path);
      if (resolve(dirname(dir)) !== resolve(deps.runsDir) || !RunRefSchema.safeParse({ runId: basename(dir) }).success) {
        deps.log(`${path} is not a run of this workbench's run store (${deps.runsDir}); not opening it.`);
        return;
      }
      push([{ type: 'openRunRequest', runId: basename(dir), time: now() }]);
    },
    async dispose() {
      unsubscribe();
      removeRoutes();
      await service.dispose();
    },
  };
}
