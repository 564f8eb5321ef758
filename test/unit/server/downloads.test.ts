import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Roots } from '../../../main/host/roots';
import { WorkbenchService } from '../../../main/host/workbench-service';
import { parseDownloadPath } from '../../../main/server/downloads';
import { startServer, type RunningServer } from '../../../main/server/server';
import { fakePorts, tempTree } from '../../support/fake-ports';

/**
 * Browser mode's downloads against a real server: files of the run store, one by one or a folder
 * as a zip, behind the token, and nothing outside the run (no `..`, no symlink out, no run folder
 * that is a link elsewhere).
 */
let server: RunningServer;
let service: WorkbenchService;
const tree = tempTree();
const run = path.join(tree.runsDir, 'run-a');
const weights = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256));

beforeAll(async () => {
  mkdirSync(path.join(run, 'exports', 'onnx', 'nested'), { recursive: true });
  writeFileSync(path.join(run, 'exports', 'onnx', 'model.onnx'), weights);
  writeFileSync(path.join(run, 'exports', 'onnx', 'preprocessing.json'), '{"classes":["ä","b"]}');
  writeFileSync(path.join(run, 'exports', 'onnx', 'nested', 'notes.txt'), 'nested');
  symlinkSync(tree.outside, path.join(run, 'exports', 'onnx', 'escape'));
  symlinkSync(path.join(tree.outside, 'secret.txt'), path.join(run, 'exports', 'secret.txt'));
  symlinkSync(tree.outside, path.join(tree.runsDir, 'linked-run'));
  const roots = await Roots.create([tree.root]);
  service = new WorkbenchService({ ports: fakePorts(tree.runsDir).ports, roots, runsDir: tree.runsDir, mode: 'test', version: 'test', restrictPaths: true });
  server = await startServer({ host: service, staticDir: tree.staticDir, port: 0, runsDir: tree.runsDir });
});
afterAll(async () => {
  await server.close();
  await service.dispose(0);
  rmSync(tree.base, { recursive: true, force: true });
});

function get(urlPath: string, token: string | null = server.token): Promise<{ status: number; body: Buffer; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: `127.0.0.1:${server.port}` };
    if (token) headers.cookie = `dwb_token_${server.port}=${token}`;
    const req = request({ host: '127.0.0.1', port: server.port, path: urlPath, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('downloads from the run store', () => {
  it('sends a file as an attachment, byte for byte', async () => {
    const r = await get('/download/run-a/exports/onnx/model.onnx');
    expect(r.status).toBe(200);
    expect(r.headers['content-disposition']).toBe(`attachment; filename="model.onnx"; filename*=UTF-8''model.onnx`);
    expect(r.body.equals(weights)).toBe(true);
  });

  it('sends a folder as a zip of its files, leaving out symbolic links', async () => {
    const r = await get('/download/run-a/exports/onnx?zip=1');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/zip');
    expect(r.headers['content-disposition']).toMatch(/filename="run-a-onnx\.zip"/);
    const files = unzipSync(new Uint8Array(r.body));
    expect(Object.keys(files).sort()).toEqual(['model.onnx', 'nested/notes.txt', 'preprocessing.json']);
    expect(Buffer.from(files['model.onnx']).equals(weights)).toBe(true);
    expect(Buffer.from(files['preprocessing.json']).toString()).toBe('{"classes":["ä","b"]}');
  });

  it('needs the token', async () => {
    expect((await get('/download/run-a/exports/onnx/model.onnx', null)).status).toBe(401);
    expect((await get('/download/run-a/exports/onnx/model.onnx', 'wrong')).status).toBe(401);
  });

  it('refuses anything outside the run, with a sentence', async () => {
    // Literal dot segments are resolved by URL parsing before routing: they never reach a download.
    for (const p of ['/download/run-a/../../secret-beside-static.txt', '/download/run-a/%2e%2e/%2e%2e/x', '/download/run-a/exports%2f..%2f..%2fx', '/download/run-a/exports/%00']) {
      const r = await get(p);
      expect([400, 404], p).toContain(r.status);
      expect(r.body.toString()).not.toContain('secret');
    }
    const link = await get('/download/run-a/exports/secret.txt');
    expect(link.status).toBe(403);
    expect(link.body.toString()).toMatch(/leads out of run run-a through a symbolic link/);
    expect((await get('/download/run-a/exports/onnx/escape/secret.txt')).status).toBe(403);
    const linkedRun = await get('/download/linked-run/secret.txt');
    expect(linkedRun.status).toBe(403);
    expect(linkedRun.body.toString()).toMatch(/is a link out of the run store/);
    expect((await get('/download/run-b/x')).status).toBe(404);
    const folder = await get('/download/run-a/exports');
    expect(folder.status).toBe(400);
    expect(folder.body.toString()).toMatch(/is a folder; add \?zip=1/);
  });

  it('parses only plain names', () => {
    expect(parseDownloadPath('/download/run-a/exports/onnx/model.onnx')).toEqual({ runId: 'run-a', rel: ['exports', 'onnx', 'model.onnx'] });
    expect(parseDownloadPath('/download/run-a/a%20b')).toEqual({ runId: 'run-a', rel: ['a b'] });
    for (const bad of ['/download/', '/download/r/../x', '/download/r/%2F', '/download/r//x', '/download/r/%E0%A4%A', '/download/r a/x']) expect(parseDownloadPath(bad), bad).toBeNull();
  });
});
