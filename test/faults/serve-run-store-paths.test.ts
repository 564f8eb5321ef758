import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunAt } from '../../main/engine/runs/run-store';
import { serve, type Serving } from '../../main/server/serve';
import { FAULT_MODEL, faultSettings, wsCall } from '../support/faults';

/**
 * The run store side of path traversal (the dataset roots are covered by
 * test/unit/server/security.test.ts): through the real serve server, a run id is a folder name
 * under the store and nothing else. `..`, `.`, ids with separators, and a runs/<id> that is a
 * symlink to a run outside the store are refused for open, events, rename, delete, continue and
 * export; an export folder reached through such a symlink is refused too.
 */
let root: string;
let runsDir: string;
let outside: string;
let serving: Serving;

function makeRun(dir: string): void {
  const settings = faultSettings();
  createRunAt(dir, {
    model: FAULT_MODEL, settings, seed: settings.seed, normalization: null, backend: { name: 'cpu' },
    dataset: { spec: { kind: 'folder', path: '/nowhere' }, name: 'x', fingerprint: 'f', classes: ['a', 'b', 'c'], inputShape: [8, 8, 1], trainSize: 1, valSize: 0 },
  });
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'fault-paths-'));
  runsDir = path.join(root, 'runs');
  outside = path.join(root, 'elsewhere');
  fs.mkdirSync(path.join(root, 'static'), { recursive: true });
  fs.mkdirSync(path.join(root, 'data'));
  fs.writeFileSync(path.join(root, 'static', 'index.html'), '<!doctype html>');
  makeRun(path.join(runsDir, 'good-run'));
  makeRun(path.join(outside, 'foreign-run'));
  fs.symlinkSync(path.join(outside, 'foreign-run'), path.join(runsDir, 'linked-run'));
  fs.symlinkSync(outside, path.join(runsDir, 'good-run', 'exports'));
  serving = await serve({
    bind: '127.0.0.1', port: 0, roots: [path.join(root, 'data')], runsDir, staticDir: path.join(root, 'static'),
    createChannel: () => { throw new Error('No trainer may start in this test.'); },
  });
});

afterAll(async () => {
  await serving.close();
  fs.rmSync(root, { recursive: true, force: true });
});

function call(channel: string, payload: unknown): ReturnType<typeof wsCall> {
  return wsCall(serving.server, channel, payload);
}

describe('run ids and the run store in browser mode', () => {
  it('lists and opens a real run, but not one reached through a symlink out of the store', async () => {
    const list = await call('run:list', {});
    expect(list.ok).toBe(true);
    expect((list.value as { id: string }[]).map((r) => r.id)).toEqual(['good-run']);
    expect((await call('run:open', { runId: 'good-run' })).ok).toBe(true);
    for (const channel of ['run:open', 'run:delete', 'run:continue']) {
      const r = await call(channel, { runId: 'linked-run' });
      expect(r.ok, channel).toBe(false);
      expect(r.error?.message, channel).toMatch(/outside the run store/);
    }
    const rename = await call('run:rename', { runId: 'linked-run', name: 'pwned' });
    expect(rename.error?.message).toMatch(/outside the run store/);
    const exp = await call('export:run', { runId: 'linked-run', format: 'csv' });
    expect(exp.error?.message).toMatch(/outside the run store/);
    // Nothing outside was touched.
    expect(JSON.parse(fs.readFileSync(path.join(outside, 'foreign-run', 'config.json'), 'utf8')).name).not.toBe('pwned');
    expect(fs.existsSync(path.join(outside, 'foreign-run'))).toBe(true);
  });

  it('refuses run ids that are not plain folder names', async () => {
    for (const runId of ['..', '.', '../runs/good-run', 'good-run/..', '/etc', 'a\\..\\b', '', 'good-run\u0000']) {
      const r = await call('run:open', { runId });
      expect(r.ok, runId).toBe(false);
      expect(r.error?.message.length, runId).toBeGreaterThan(10);
    }
  });

  it('refuses an export folder that leaves the store through a symlink inside a run', async () => {
    const r = await call('export:run', { runId: 'good-run', format: 'csv', outDir: path.join(runsDir, 'good-run', 'exports', 'csv') });
    expect(r.ok).toBe(false);
    expect(r.error?.message).toMatch(/outside/);
    expect(fs.readdirSync(outside)).toEqual(['foreign-run']);
  });
});
