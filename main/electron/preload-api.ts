import { EVENT_CHANNEL, type WorkbenchApi } from '../../shared/api';
import { createApiClient } from '../../shared/api/client';

/**
 * The WorkbenchApi as the preload builds it over ipcRenderer: one named function per method
 * (Electron security checklist #20 and the IPC tutorial: never expose ipcRenderer or a generic
 * `send(channel)`). Each method invokes its own fixed channel; the page cannot choose a channel.
 * The shared client core (shared/api/client.ts) checks every reply and event, as in browser mode.
 * A factory over the ipcRenderer pieces, so tests run it with a fake.
 */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export function createPreloadApi(ipc: IpcRendererLike): WorkbenchApi {
  return createApiClient({
    // Only the request crosses; `undefined` for methods without one.
    request: (channel, payload) => ipc.invoke(channel, payload),
    subscribe: (onBatch) => {
      // The IpcRendererEvent is dropped here: its `sender` is ipcRenderer itself and must not leak.
      const handler = (_event: unknown, batch: unknown) => onBatch(batch);
      ipc.on(EVENT_CHANNEL, handler);
      let subscribed = true;
      return () => {
        if (!subscribed) return;
        subscribed = false;
        ipc.removeListener(EVENT_CHANNEL, handler);
      };
    },
  }, { desktop: true });
}

export interface ContextBridgeLike {
  exposeInMainWorld(key: string, api: unknown): void;
}

/** Puts the API on `window[PRELOAD_GLOBAL]` of the page's world, and nothing else. */
export function exposeWorkbench(bridge: ContextBridgeLike, ipc: IpcRendererLike, key: string): WorkbenchApi {
  const api = createPreloadApi(ipc);
  bridge.exposeInMainWorld(key, api);
  return api;
}
