import { describe, expect, it } from 'vitest';
import {
  API_METHODS,
  API_METHOD_NAMES,
  ApiError,
  DESKTOP_METHODS,
  DESKTOP_METHOD_NAMES,
  EVENT_CHANNEL,
  PRELOAD_GLOBAL,
  type HostEvent,
} from '../../../shared/api';
import { exposeWorkbench, type IpcRendererLike } from '../../../main/electron/preload-api';
import { installFolderDrop, type DragEventLike } from '../../../main/electron/preload-drop';

/** A stand-in for ipcRenderer that records calls and answers from a script. */
function fakeIpc(answer: (channel: string, payload: unknown) => unknown = () => ({ ok: true, value: null })) {
  const invoked: { channel: string; args: unknown[] }[] = [];
  const listeners = new Map<string, Set<(e: unknown, ...a: unknown[]) => void>>();
  const ipc: IpcRendererLike = {
    invoke: async (channel, ...args) => {
      invoked.push({ channel, args });
      return answer(channel, args[0]);
    },
    on: (channel, l) => {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(l);
    },
    removeListener: (channel, l) => listeners.get(channel)?.delete(l),
  };
  const emit = (channel: string, ...args: unknown[]) => {
    for (const l of listeners.get(channel) ?? []) l({ sender: ipc, senderId: 0 }, ...args);
  };
  return { ipc, invoked, listeners, emit };
}

function fakeBridge() {
  const exposed = new Map<string, unknown>();
  return { exposed, bridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) } };
}

describe('preload bridge', () => {
  it('exposes exactly the WorkbenchApi, as named functions, under window.workbench', () => {
    const { ipc } = fakeIpc();
    const { bridge, exposed } = fakeBridge();
    exposeWorkbench(bridge, ipc, PRELOAD_GLOBAL);
    expect([...exposed.keys()]).toEqual(['workbench']);
    const api = exposed.get('workbench') as Record<string, unknown>;
    const expected = [...API_METHOD_NAMES, ...DESKTOP_METHOD_NAMES, 'onEvent'].sort();
    expect(Object.keys(api).sort()).toEqual(expected);
    for (const [key, value] of Object.entries(api)) expect(typeof value, key).toBe('function');
    // Nothing generic: no ipcRenderer, no send(channel), no invoke(channel).
    for (const forbidden of ['ipcRenderer', 'send', 'invoke', 'on', 'sendSync', 'postMessage']) expect(api).not.toHaveProperty(forbidden);
    expect(Object.values(api)).not.toContain(ipc);
  });

  it('sends each method on its own fixed channel with only the request', async () => {
    const { ipc, invoked } = fakeIpc();
    const api = exposeWorkbench(fakeBridge().bridge, ipc, PRELOAD_GLOBAL) as unknown as Record<string, (r?: unknown) => Promise<unknown>>;
    // Every reply here is `null`, which most methods' schemas refuse: the request still went out.
    for (const name of API_METHOD_NAMES) await api[name]({ runId: 'r1' }).catch(() => undefined);
    await api.chooseFolder({ purpose: 'dataset' });
    await api.chooseFile({ purpose: 'weights' });
    expect(invoked.map((c) => c.channel)).toEqual([...API_METHOD_NAMES.map((n) => API_METHODS[n].channel), DESKTOP_METHODS.chooseFolder.channel, DESKTOP_METHODS.chooseFile.channel]);
    expect(invoked.every((c) => c.args.length === 1)).toBe(true);
    expect(invoked[0].args[0]).toEqual({ runId: 'r1' });
  });

  it('resolves to the value of an ok reply and rejects with ApiError on an error reply', async () => {
    const { ipc } = fakeIpc((channel) =>
      channel === 'run:list'
        ? { ok: true, value: [] }
        : { ok: false, error: { name: 'WorkbenchError', message: 'Run r9 does not exist.', user: true } },
    );
    const api = exposeWorkbench(fakeBridge().bridge, ipc, PRELOAD_GLOBAL);
    await expect(api.listRuns()).resolves.toEqual([]);
    const err = await api.openRun({ runId: 'r9' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe('Run r9 does not exist.');
    expect((err as ApiError).channel).toBe('run:open');
    expect((err as ApiError).user).toBe(true);
  });

  it('checks replies and events against the API schemas, as the WebSocket client does', async () => {
    const { ipc, emit } = fakeIpc((channel) => (channel === 'run:list' ? { ok: true, value: [{ id: 'r1' }] } : { ok: true, value: null }));
    const api = exposeWorkbench(fakeBridge().bridge, ipc, PRELOAD_GLOBAL);
    await expect(api.listRuns()).rejects.toThrow(/reply to run:list does not match the API/);
    const seen: HostEvent[] = [];
    api.onEvent((e) => seen.push(e));
    emit(EVENT_CHANNEL, [{ type: 'step', runId: 'r1' }, { type: 'runsChanged', time: 1 }, 'junk']);
    expect(seen).toEqual([{ type: 'runsChanged', time: 1 }]);
  });

  it('rejects with a sentence when the main process answers garbage', async () => {
    const api = exposeWorkbench(fakeBridge().bridge, fakeIpc(() => 'nonsense').ipc, PRELOAD_GLOBAL);
    await expect(api.activeRun()).rejects.toThrow(/not a reply/);
  });

  it('delivers pushed events one by one, never the IPC event, and unsubscribes', () => {
    const { ipc, emit, listeners } = fakeIpc();
    const api = exposeWorkbench(fakeBridge().bridge, ipc, PRELOAD_GLOBAL);
    const seen: unknown[][] = [];
    const off = api.onEvent((...args: unknown[]) => seen.push(args));
    const batch: HostEvent[] = [
      { type: 'runsChanged', time: 1 },
      { type: 'log', level: 'info', message: 'hi', time: 2 },
    ];
    emit(EVENT_CHANNEL, batch);
    expect(seen).toEqual([[batch[0]], [batch[1]]]);
    off();
    off();
    expect(listeners.get(EVENT_CHANNEL)!.size).toBe(0);
    emit(EVENT_CHANNEL, batch);
    expect(seen).toHaveLength(2);
    expect(() => api.onEvent('nope' as never)).toThrow(/needs a function/);
  });
});

describe('folder drop', () => {
  function target() {
    const handlers = new Map<string, (e: DragEventLike) => void>();
    return { handlers, addEventListener: (type: string, l: (e: DragEventLike) => void) => handlers.set(type, l) };
  }
  const drag = (files: unknown[], types = ['Files'], defaultPrevented = false) => {
    const e = { defaultPrevented, dataTransfer: { types, files, dropEffect: 'none' }, prevented: false, preventDefault() { e.prevented = true; } };
    return e;
  };

  it('turns the first dropped item into a path for the main process', () => {
    const t = target();
    const sent: string[] = [];
    installFolderDrop(t, (f) => `/data/${(f as { name: string }).name}`, (p) => sent.push(p));
    const over = drag([]);
    t.handlers.get('dragover')!(over);
    expect(over.prevented).toBe(true);
    expect(over.dataTransfer.dropEffect).toBe('copy');
    const drop = drag([{ name: 'cifar' }, { name: 'other' }]);
    t.handlers.get('drop')!(drop);
    expect(drop.prevented).toBe(true);
    expect(sent).toEqual(['/data/cifar']);
  });

  it('leaves text drags and drops the page handled alone', () => {
    const t = target();
    const sent: string[] = [];
    installFolderDrop(t, () => '/x', (p) => sent.push(p));
    const text = drag([], ['text/plain']);
    t.handlers.get('dragover')!(text);
    t.handlers.get('drop')!(text);
    t.handlers.get('drop')!(drag([{}], ['Files'], true));
    expect(text.prevented).toBe(false);
    expect(sent).toEqual([]);
  });
});
