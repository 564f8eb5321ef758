import {
  API_METHODS,
  API_METHOD_NAMES,
  ApiError,
  DESKTOP_METHODS,
  DESKTOP_METHOD_NAMES,
  EVENT_CHANNEL,
  type ApiReply,
  type HostEvent,
  type WorkbenchApi,
} from '../../shared/api';

/**
 * The WorkbenchApi as the preload builds it over ipcRenderer: one named function per method
 * (Electron security checklist #20 and the IPC tutorial: never expose ipcRenderer or a generic
 * `send(channel)`). Each method invokes its own fixed channel; the page cannot choose a channel.
 * A factory over the ipcRenderer pieces, so tests run it with a fake.
 */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

function unwrap(channel: string, reply: unknown): unknown {
  const r = reply as ApiReply | undefined;
  if (r && r.ok === true) return r.value;
  if (r && r.ok === false) throw new ApiError(channel, r.error);
  throw new ApiError(channel, { name: 'Error', message: `The app answered ${channel} with something that is not a reply; restart the app.` });
}

export function createPreloadApi(ipc: IpcRendererLike): WorkbenchApi {
  const api: Record<string, unknown> = {};
  for (const name of API_METHOD_NAMES) {
    const { channel } = API_METHODS[name];
    // Only the request crosses; `undefined` for methods without one.
    api[name] = async (request?: unknown) => unwrap(channel, await ipc.invoke(channel, request));
  }
  for (const name of DESKTOP_METHOD_NAMES) {
    const { channel } = DESKTOP_METHODS[name];
    api[name] = async (request?: unknown) => unwrap(channel, await ipc.invoke(channel, request));
  }
  api.onEvent = (listener: (event: HostEvent) => void) => {
    if (typeof listener !== 'function') throw new TypeError(`onEvent needs a function; got ${typeof listener}.`);
    // The IpcRendererEvent is dropped here: its `sender` is ipcRenderer itself and must not leak.
    const handler = (_event: unknown, batch: unknown) => {
      if (!Array.isArray(batch)) return;
      for (const event of batch) listener(event as HostEvent);
    };
    ipc.on(EVENT_CHANNEL, handler);
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      ipc.removeListener(EVENT_CHANNEL, handler);
    };
  };
  return api as unknown as WorkbenchApi;
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
