import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanDataset } from '../../main/engine/data';
import { serve, type Serving } from '../../main/server/serve';
import { pngClaiming, solidImage, tempDir, writeTree } from '../support/data';
import { wsCall } from '../support/faults';

/**
 * Through browser mode: the hostile files of test/unit/engine/data/hostile.test.ts (which
 * covers the data module itself, unreadable files and 2,000 unicode classes included) scanned
 * through the real serve server's `dataset:scan`, thumbnails on, plus what that file does not
 * plant: a JPEG whose header claims 30000×30000, unicode class names and file names, a file whose
 * extension lies. Every bad file gets its line, the thumbnails come only from good images, memory
 * stays bounded, and the server keeps serving.
 */
const tmp = tempDir('fault-hostile-');
const root = path.join(tmp.dir, 'data', 'hostile');
let serving: Serving;

/** A real JPEG with its SOF0 frame header patched to claim `width`×`height`. */
async function jpegClaiming(width: number, height: number): Promise<Buffer> {
  const jpg = Buffer.from(await solidImage('jpeg', 16, 16, [90, 90, 90]));
  for (let i = 2; i < jpg.length - 9; i++) {
    if (jpg[i] === 0xff && (jpg[i + 1] === 0xc0 || jpg[i + 1] === 0xc2)) {
      jpg.writeUInt16BE(height, i + 5);
      jpg.writeUInt16BE(width, i + 7);
      return jpg;
    }
  }
  throw new Error('No SOF marker in the JPEG sharp wrote.');
}

beforeAll(async () => {
  const png = await solidImage('png', 12, 10, [200, 30, 30]);
  const jpg = await solidImage('jpeg', 16, 16, [30, 200, 30]);
  writeTree(root, {
    'äpfel/ok1.png': png,
    'äpfel/ok2.jpg': jpg,
    'äpfel/empty.png': new Uint8Array(0),
    'äpfel/truncated.png': png.subarray(0, png.length - 20),
    'äpfel/truncated.jpg': jpg.subarray(0, Math.floor(jpg.length * 0.6)),
    'äpfel/huge.png': await pngClaiming(30000, 30000),
    'äpfel/huge.jpg': await jpegClaiming(30000, 30000),
    'äpfel/lies.jpg': png, // a PNG named .jpg decodes by content
    '🍌 banane/b1.png': png,
    '🍌 banane/b2.png': png,
    '🍌 banane/日本語.png': png,
    'κεράσι/only.png': png,
  });
  fs.symlinkSync('..', path.join(root, '🍌 banane', 'loop'));
  fs.symlinkSync('self.png', path.join(root, '🍌 banane', 'self.png'));
  serving = await serve({
    bind: '127.0.0.1', port: 0, roots: [path.join(tmp.dir, 'data')], runsDir: path.join(tmp.dir, 'runs'),
    staticDir: (() => {
      fs.mkdirSync(path.join(tmp.dir, 'static'));
      fs.writeFileSync(path.join(tmp.dir, 'static', 'index.html'), '<!doctype html>');
      return path.join(tmp.dir, 'static');
    })(),
    createChannel: () => { throw new Error('No trainer may start in this test.'); },
  });
});

afterAll(async () => {
  await serving.close();
  tmp.cleanup();
});

function call(channel: string, payload: unknown): ReturnType<typeof wsCall> {
  return wsCall(serving.server, channel, payload);
}

interface Scan { classes: string[]; skipped: { path: string; reason: string }[]; warnings: string[]; errors: string[]; thumbnails: Record<string, string[]> }

describe('hostile datasets through the server scan path', () => {
  it('reports every bad file, thumbnails only good ones, and keeps serving', async () => {
    const rssBefore = process.memoryUsage().rss;
    const reply = await call('dataset:scan', { dataset: { kind: 'folder', path: root }, inputShape: [8, 8, 3], thumbnailsPerClass: 8 });
    expect(reply.ok, reply.error?.message).toBe(true);
    const report = reply.value as Scan;
    const { thumbnails } = report;
    expect(report.classes).toEqual(expect.arrayContaining(['äpfel', '🍌 banane', 'κεράσι']));
    const reason = (rel: string) => report.skipped.find((s) => s.path === rel)?.reason;
    expect(reason('äpfel/empty.png')).toBe('is empty (0 bytes)');
    expect(reason('äpfel/huge.png')).toMatch(/claims 30000×30000 pixels/);
    expect(reason('äpfel/huge.jpg')).toMatch(/claims 30000×30000 pixels/);
    expect(reason('🍌 banane/self.png')).toMatch(/symbolic link loop/);
    expect(reason('🍌 banane/loop/')).toMatch(/already scanned/);
    for (const thumbs of Object.values(thumbnails)) for (const t of thumbs) expect(t).toMatch(/^data:image\/png;base64,/);
    // The picker decodes every image, as `scan` and training do: the truncated files are skipped here too.
    expect(reason('äpfel/truncated.png')).toMatch(/^is corrupt or truncated/);
    expect(reason('äpfel/truncated.jpg')).toMatch(/^is corrupt or truncated/);
    expect((report as Scan & { verified?: boolean }).verified).toBe(true);
    // Good images only: äpfel has ok1, ok2 and the PNG named .jpg.
    expect(thumbnails['🍌 banane']).toHaveLength(3);
    expect(thumbnails['κεράσι']).toHaveLength(1);
    expect(report.warnings.join(' ')).toMatch(/κεράσι/);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 2 ** 20);
    expect((await call('app:info', {})).ok).toBe(true);
  });

  it('the data module\'s scan, which `scan` prints, skips exactly the files the server\'s scan skips', async () => {
    const full = await scanDataset({ kind: 'folder', path: root }, { inputShape: [8, 8, 3] });
    const reason = (rel: string) => full.skipped.find((s) => s.path === rel)?.reason;
    expect(reason('äpfel/truncated.png')).toBeDefined();
    expect(reason('äpfel/truncated.jpg')).toBeDefined();
    expect(reason('äpfel/huge.jpg')).toMatch(/claims 30000×30000 pixels/);
    expect(reason('äpfel/lies.jpg')).toBeUndefined();
    const reply = await call('dataset:scan', { dataset: { kind: 'folder', path: root }, inputShape: [8, 8, 3], thumbnailsPerClass: 0 });
    const served = reply.value as Scan & { counts: number[] };
    // The same files for the same kind of reason (libvips words a second decode of a file differently).
    const kinds = (list: { path: string; reason: string }[]) => list.map((x) => `${x.path}: ${x.reason.replace(/\s*\(.*$/, '')}`);
    expect(kinds(served.skipped)).toEqual(kinds(full.skipped));
    expect(served.counts).toEqual(full.counts);
  });
});
