import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { PRELOAD_GLOBAL } from '../../shared/api';
import { DROP_CHANNEL } from './channels';
import { exposeWorkbench } from './preload-api';
import { installFolderDrop, type DropTarget } from './preload-drop';

// Runs sandboxed with context isolation (see security.ts): this world can reach ipcRenderer,
// the page's world gets only `window.workbench`, the WorkbenchApi's named functions.
exposeWorkbench(contextBridge, ipcRenderer, PRELOAD_GLOBAL);

installFolderDrop(
  globalThis as unknown as DropTarget,
  (file) => webUtils.getPathForFile(file as Parameters<typeof webUtils.getPathForFile>[0]),
  (path) => {
    ipcRenderer.invoke(DROP_CHANNEL, path).catch(() => undefined);
  },
);
