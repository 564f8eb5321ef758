import { rmSync, symlinkSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import WebSocket from 'ws';
import { API_METHODS } from '../../../shared/api';
import { Roots } from '../../../main/host/roots';
import { WorkbenchService } from '../../../main/host/workbench-service';
import { startServer, type RunningServer } from '../../../main/server/server';
import { fakePorts, tempTree } from '../../support/fake-ports';

/** Browser mode's lockdown (the token, Host and Origin checks, the roots), against a real server on a free port. */
let server: RunningServer;
let service: WorkbenchService;
const tree = tempTree();
symlinkSync(tree.outside, path.join(tree.root, 'escape'));

beforeAll(async () => {
  const roots = await Roots.create([tree.root]);
  service = new WorkbenchService({ ports: fakePorts(tree.runsDir).ports, roots, runsDir: tree.runsDir, mode: 'test', version: 'test', restrictPaths: true });
  server = await startServer({ host: service, staticDir: tree.staticDir, port: 0, maxPayload: 64 * 1024 });
});
afterAll(async () => {
  await server.close();
  await service.dispose(0);
  rmSync(tree.base, { recursive: true, force: true });
});

function get(urlPath: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: urlPath, headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

const origin = () => `http://127.0.0.1:${server.port}`;
const wsUrl = (token: string | null) => `ws://127.0.0.1:${server.port}/ws${token === null ? '' : `?token=${token}`}`;

/** Resolves with the HTTP status of a refused upgrade, or 101 when it opened. */
function upgrade(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(-1));
  });
}

function connect(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl(server.token), { headers: { Origin: origin() } });
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}

/** Sends raw text and waits for the next reply. */
function ask(ws: WebSocket, text: string): Promise<{ id: number | null; ok: boolean; value?: unknown; error?: { message: string } }> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const msg = JSON.parse(data.toString());
      if (msg.kind !== 'reply') return;
      ws.off('message', onMessage);
      resolve(msg);
    };
    ws.on('message', onMessage);
    ws.send(text);
  });
}

describe('HTTP', () => {
  it('listens on 127.0.0.1 by default and prints a URL with the token', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/?token=${server.token}`);
    expect(server.token.length).toBeGreaterThanOrEqual(32);
  });
  it('refuses requests without the token or with a wrong one', async () => {
    expect((await get('/')).status).toBe(401);
    expect((await get('/?token=wrong')).status).toBe(401);
    expect((await get('/', { Cookie: `dwb_token_${server.port}=wrong` })).status).toBe(401);
  });
  it('serves the page with the token and sets an HttpOnly SameSite=Strict cookie that works alone', async () => {
    const first = await get(`/?token=${server.token}`);
    expect(first.status).toBe(200);
    expect(first.body).toContain('<title>wb</title>');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(first.headers['content-security-policy']).toMatch(/default-src 'self'/);
    const second = await get('/index.html', { Cookie: cookie.split(';')[0] });
    expect(second.status).toBe(200);
  });
  it('refuses a foreign Host header (DNS rebinding)', async () => {
    expect((await get(`/?token=${server.token}`, { Host: `evil.example:${server.port}` })).status).toBe(403);
  });
  it('never serves files outside the renderer folder', async () => {
    for (const p of ['/../secret-beside-static.txt', '/%2e%2e/secret-beside-static.txt', '/..%2fsecret-beside-static.txt', '/%00']) {
      const r = await get(`${p}${p.includes('?') ? '&' : '?'}token=${server.token}`);
      expect(r.status, p).toBe(404);
      expect(r.body).not.toContain('secret');
    }
  });
});

describe('WebSocket upgrade', () => {
  it('refuses no token, a wrong token, a foreign Origin and a missing Origin', async () => {
    expect(await upgrade(wsUrl(null), { Origin: origin() })).toBe(401);
    expect(await upgrade(wsUrl('nope'), { Origin: origin() })).toBe(401);
    expect(await upgrade(wsUrl(server.token), { Origin: 'http://evil.example' })).toBe(403);
    expect(await upgrade(wsUrl(server.token), { Origin: `http://localhost:${server.port + 1}` })).toBe(403);
    expect(await upgrade(wsUrl(server.token), {})).toBe(403);
  });
  it('accepts the token by cookie and from its own origin', async () => {
    expect(await upgrade(wsUrl(null), { Origin: origin(), Cookie: `dwb_token_${server.port}=${server.token}` })).toBe(101);
    expect(await upgrade(wsUrl(server.token), { Origin: origin() })).toBe(101);
  });
});

describe('WebSocket messages', () => {
  it('answers malformed messages with errors as data and keeps the socket and server going', async () => {
    const ws = await connect();
    const bad = [
      ['not json', /not valid JSON/],
      ['[1,2]', /Malformed request/],
      ['{"id": "x", "channel": "run:list"}', /Malformed request/],
      ['{"id": 1, "channel": "rm:rf"}', /Unknown channel/],
      ['{"id": 2, "channel": "run:rename", "payload": {"runId": "../x", "name": "a"}}', /Invalid request for run:rename/],
      ['{"id": 3, "channel": "run:start", "payload": {"model": 5}}', /Invalid request for run:start/],
      ['{"id": 4, "channel": "run:pause"}', /no run is training/],
    ] as const;
    for (const [text, message] of bad) {
      const reply = await ask(ws, text);
      expect(reply.ok, text).toBe(false);
      expect(reply.error?.message, text).toMatch(message);
    }
    const ok = await ask(ws, '{"id": 9, "channel": "run:list"}');
    expect(ok).toMatchObject({ id: 9, ok: true, value: [] });
    ws.close();
  });
  it('closes a socket that sends an oversized message (1009), and the server keeps serving', async () => {
    const ws = await connect();
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.send(JSON.stringify({ id: 1, channel: 'run:list', payload: 'x'.repeat(100 * 1024) }));
    expect(await closed).toBe(1009);
    const again = await connect();
    expect((await ask(again, '{"id": 1, "channel": "app:info"}')).ok).toBe(true);
    again.close();
  });
});

describe('fuzzing the endpoint (fast-check)', () => {
  it('answers every arbitrary message with a reply, and the socket and server keep going', async () => {
    const ws = await connect();
    const channels = [...Object.values(API_METHODS).map((m) => m.channel), 'x:y', ''];
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...channels), fc.jsonValue(), fc.boolean(), async (channel, payload, wrapped) => {
        n++;
        // The engine behind is fake, so a payload that happens to be valid does no harm.
        const text = wrapped ? JSON.stringify({ id: n, channel, payload }) : JSON.stringify(payload);
        const reply = await ask(ws, text);
        expect(typeof reply.ok).toBe('boolean');
        if (!reply.ok) expect(reply.error?.message.length).toBeGreaterThan(10);
      }),
      { numRuns: 300 },
    );
    expect((await ask(ws, '{"id": 1, "channel": "app:info"}')).ok).toBe(true);
    ws.close();
  });
});

describe('folder listing under the roots', () => {
  it('lists the roots, and folders under them', async () => {
    const ws = await connect();
    const roots = await ask(ws, JSON.stringify({ id: 1, channel: 'fs:list', payload: {} }));
    expect(roots.ok).toBe(true);
    const dir = await ask(ws, JSON.stringify({ id: 2, channel: 'fs:list', payload: { path: path.join(tree.root, 'ds') } }));
    expect((dir.value as { entries: { name: string }[] }).entries.map((e) => e.name)).toEqual(['a', 'b']);
    // The symlink pointing out of the root is not listed.
    const top = await ask(ws, JSON.stringify({ id: 3, channel: 'fs:list', payload: { path: tree.root } }));
    expect((top.value as { entries: { name: string }[] }).entries.map((e) => e.name)).toEqual(['ds']);
    ws.close();
  });
  it('refuses .., absolute escapes, relative paths and symlinks out of the roots', async () => {
    const ws = await connect();
    const attempts: [string, RegExp][] = [
      [`${tree.root}/..`, /may not contain "\.\."/],
      [`${tree.root}/ds/../../outside`, /may not contain "\.\."/],
      [tree.outside, /outside the folders/],
      ['/etc', /outside the folders/],
      ['ds', /must be absolute/],
      [path.join(tree.root, 'escape'), /outside the folders/],
      [path.join(tree.root, 'escape', 'secret.txt'), /outside the folders/],
    ];
    for (const [p, message] of attempts) {
      const reply = await ask(ws, JSON.stringify({ id: 1, channel: 'fs:list', payload: { path: p } }));
      expect(reply.ok, p).toBe(false);
      expect(reply.error?.message, p).toMatch(message);
    }
    // Dataset scans and export folders obey the same rule.
    const scan = await ask(ws, JSON.stringify({ id: 2, channel: 'dataset:scan', payload: { dataset: { kind: 'folder', path: tree.outside } } }));
    expect(scan.error?.message).toMatch(/outside the folders/);
    ws.close();
  });
});
