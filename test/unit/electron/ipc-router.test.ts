import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { API_METHODS, API_METHOD_NAMES, DESKTOP_METHODS, type ApiReply } from '../../../shared/api';
import { DROP_CHANNEL } from '../../../main/electron/channels';
import { registerIpcRouter, type DesktopHandlers } from '../../../main/electron/ipc-router';
import { APP_ORIGIN } from '../../../main/electron/app-protocol';

type Handler = (event: unknown, payload: unknown) => Promise<ApiReply>;

/** A fake IpcMainInvokeEvent whose sender frame has the given origin and URL. */
function event(frame: { origin: string; url: string; parent?: unknown } | null) {
  return { senderFrame: frame ? { parent: null, ...frame } : null };
}
const APP = event({ origin: APP_ORIGIN, url: `${APP_ORIGIN}/index.html` });

function setup(allowedOrigins = [APP_ORIGIN]) {
  const handlers = new Map<string, Handler>();
  const calls: { channel: string; payload: unknown }[] = [];
  const desktopCalls: unknown[] = [];
  const refused: string[] = [];
  const desktop: DesktopHandlers = {
    chooseFolder: async (request) => {
      desktopCalls.push(request);
      return '/home/u/data';
    },
    chooseFile: async (request) => {
      desktopCalls.push(request);
      return '/home/u/densenet121-a639ec97.pth';
    },
    folderDropped: async (path) => {
      desktopCalls.push(path);
    },
  };
  const dispose = registerIpcRouter({
    ipcMain: {
      handle: (channel: string, h: never) => handlers.set(channel, h),
      removeHandler: (channel: string) => handlers.delete(channel),
    } as never,
    service: {
      call: async (channel, payload) => {
        calls.push({ channel, payload });
        if (channel === 'run:open') throw new Error('service blew up');
        return { ok: true, value: 'served' };
      },
    },
    desktop,
    allowedOrigins,
    onRefused: (channel) => refused.push(channel),
  });
  const invoke = (channel: string, payload: unknown, ev: unknown = APP) => handlers.get(channel)!(ev, payload);
  return { handlers, calls, desktopCalls, refused, dispose, invoke };
}

const VALID: Record<string, unknown> = { 'run:open': { runId: 'r1' }, 'run:rename': { runId: 'r1', name: 'x' } };

describe('IPC router', () => {
  it('handles every API channel, the desktop dialogs and the drop channel, and removes them again', () => {
    const r = setup();
    const expected = [...API_METHOD_NAMES.map((m) => API_METHODS[m].channel), DESKTOP_METHODS.chooseFolder.channel, DESKTOP_METHODS.chooseFile.channel, DROP_CHANNEL];
    expect([...r.handlers.keys()].sort()).toEqual(expected.sort());
    r.dispose();
    expect(r.handlers.size).toBe(0);
  });

  it('forwards a valid call to the service and returns its reply', async () => {
    const r = setup();
    await expect(r.invoke('run:list', undefined)).resolves.toEqual({ ok: true, value: 'served' });
    await expect(r.invoke('run:rename', VALID['run:rename'])).resolves.toEqual({ ok: true, value: 'served' });
    expect(r.calls).toEqual([{ channel: 'run:list', payload: undefined }, { channel: 'run:rename', payload: VALID['run:rename'] }]);
  });

  it('answers a throwing service with an error as data', async () => {
    const r = setup();
    await expect(r.invoke('run:open', VALID['run:open'])).resolves.toEqual({ ok: false, error: { name: 'Error', message: 'service blew up' } });
  });

  // Foreign senders (checklist #17), data-driven: none of them reaches the service.
  it.each([
    ['a destroyed frame', event(null)],
    ['another origin', event({ origin: 'https://evil.example', url: 'https://evil.example/' })],
    ['a file:// page', event({ origin: 'file://', url: 'file:///tmp/x.html' })],
    ['a sub-frame of the app', event({ origin: APP_ORIGIN, url: `${APP_ORIGIN}/index.html`, parent: {} })],
    ['an origin that disagrees with its URL', event({ origin: APP_ORIGIN, url: 'https://evil.example/' })],
    ['another custom-scheme host', event({ origin: 'app://evil', url: 'app://evil/index.html' })],
  ])('refuses %s', async (_what, ev) => {
    const r = setup();
    for (const channel of ['run:list', 'run:delete', DESKTOP_METHODS.chooseFolder.channel, DROP_CHANNEL]) {
      const reply = await r.invoke(channel, channel === 'run:delete' ? { runId: 'r1' } : { purpose: 'dataset' }, ev);
      expect(reply.ok).toBe(false);
      expect(!reply.ok && reply.error.name).toBe('SecurityError');
    }
    expect(r.calls).toEqual([]);
    expect(r.desktopCalls).toEqual([]);
    expect(r.refused).toHaveLength(4);
  });

  it('accepts the vite dev server only when it is allowed', async () => {
    const dev = event({ origin: 'http://localhost:5173', url: 'http://localhost:5173/' });
    expect((await setup().invoke('run:list', undefined, dev)).ok).toBe(false);
    expect((await setup([APP_ORIGIN, 'http://localhost:5173']).invoke('run:list', undefined, dev)).ok).toBe(true);
  });

  it.each([
    ['run:start', { model: 'densenet121' }, /Invalid request for run:start/],
    ['run:open', { runId: '../../etc' }, /runId/],
    ['run:open', 'r1', /Invalid request for run:open/],
    ['run:rename', { runId: 'r1', name: '' }, /name/],
    ['run:list', { extra: 1 }, /Invalid request for run:list/],
    ['dataset:scan', { dataset: { kind: 'folder', path: '' } }, /dataset/],
    ['export:run', { runId: 'r1', format: 'exe' }, /format/],
    ['inspect:request', { what: 'stats', sample: -1 }, /sample/],
    ['dialog:chooseFolder', { purpose: 'anything' }, /purpose/],
    ['dialog:chooseFile', { purpose: 'dataset' }, /purpose/],
    [DROP_CHANNEL, 42, /Invalid request for shell:drop/],
  ])('rejects a malformed %s payload with a sentence', async (channel, payload, message) => {
    const r = setup();
    const reply = await r.invoke(channel, payload);
    expect(reply.ok).toBe(false);
    expect(!reply.ok && reply.error.message).toMatch(message);
    expect(r.calls).toEqual([]);
    expect(r.desktopCalls).toEqual([]);
  });

  it('never lets a payload the schema refuses reach the service (property)', async () => {
    const r = setup();
    const channels = API_METHOD_NAMES.map((m) => API_METHODS[m]);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...channels), fc.jsonValue(), async ({ channel, request }, payload) => {
        const before = r.calls.length;
        const reply = await r.invoke(channel, payload);
        const valid = request.safeParse(payload).success;
        expect(reply.ok === true || !valid).toBe(true);
        expect(r.calls.length - before).toBe(valid ? 1 : 0);
      }),
      { numRuns: 300 },
    );
  });

  it('runs the native picker and reports a dropped folder for a trusted sender', async () => {
    const r = setup();
    await expect(r.invoke('dialog:chooseFolder', { purpose: 'export', defaultPath: '/tmp' })).resolves.toEqual({ ok: true, value: '/home/u/data' });
    await expect(r.invoke(DROP_CHANNEL, '/home/u/cifar')).resolves.toEqual({ ok: true, value: null });
    await expect(r.invoke('dialog:chooseFile', { purpose: 'weights' })).resolves.toEqual({ ok: true, value: '/home/u/densenet121-a639ec97.pth' });
    expect(r.desktopCalls).toEqual([{ purpose: 'export', defaultPath: '/tmp' }, '/home/u/cifar', { purpose: 'weights' }]);
  });
});
