import type { MenuItemConstructorOptions } from 'electron';

/**
 * The application menu as a template, built by a pure function so tests can read it. Standard
 * roles give the platform's own labels and shortcuts (Edit, View, Window); the workbench's own
 * items carry accelerators that work on every platform.
 */
export interface RecentRunItem { runId: string; label: string }

export interface MenuActions {
  openDatasetFolder(): void;
  openRecentRun(runId: string): void;
  clearRecentRuns(): void;
  pauseRun(): void;
  resumeRun(): void;
  stopRun(): void;
  snapshotRun(): void;
  openExternal(url: string): void;
}

export const PAPER_URL = 'https://arxiv.org/abs/1608.06993';
export const DOCS_URL = 'https://github.com/liuzhuang13/DenseNet';

export function menuTemplate(opts: { platform: NodeJS.Platform; appName: string; recent: RecentRunItem[]; actions: MenuActions }): MenuItemConstructorOptions[] {
  const { actions, recent } = opts;
  const mac = opts.platform === 'darwin';
  const recentItems: MenuItemConstructorOptions[] = recent.length
    ? [
        ...recent.map((r) => ({ label: r.label, click: () => actions.openRecentRun(r.runId) })),
        { type: 'separator' as const },
        { label: 'Clear Recent Runs', click: () => actions.clearRecentRuns() },
      ]
    : [{ label: 'No Recent Runs', enabled: false }];

  const file: MenuItemConstructorOptions = {
    label: '&File',
    submenu: [
      { label: 'Open Dataset Folder…', accelerator: 'CmdOrCtrl+O', click: () => actions.openDatasetFolder() },
      { label: 'Open Recent Run', submenu: recentItems },
      { type: 'separator' },
      mac ? { role: 'close' } : { role: 'quit' },
    ],
  };
  const run: MenuItemConstructorOptions = {
    label: '&Run',
    submenu: [
      { label: 'Pause Training', accelerator: 'CmdOrCtrl+Shift+P', click: () => actions.pauseRun() },
      { label: 'Resume Training', accelerator: 'CmdOrCtrl+Shift+R', click: () => actions.resumeRun() },
      { label: 'Stop Training', accelerator: 'CmdOrCtrl+Shift+S', click: () => actions.stopRun() },
      { type: 'separator' },
      { label: 'Save Checkpoint Now', accelerator: 'CmdOrCtrl+Shift+K', click: () => actions.snapshotRun() },
    ],
  };
  const help: MenuItemConstructorOptions = {
    role: 'help',
    submenu: [
      { label: 'DenseNet Paper (arXiv 1608.06993)', click: () => actions.openExternal(PAPER_URL) },
      { label: 'Reference Implementation', click: () => actions.openExternal(DOCS_URL) },
      ...(mac ? [] : [{ type: 'separator' as const }, { role: 'about' as const }]),
    ],
  };
  return [
    ...(mac ? [{ label: opts.appName, role: 'appMenu' as const }] : []),
    file,
    { role: 'editMenu' },
    run,
    { role: 'viewMenu' },
    { role: 'windowMenu' },
    help,
  ];
}
