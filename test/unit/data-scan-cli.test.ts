import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanReport } from '../../main/engine/data';
import { solidImage, tempDir, writeTree } from './data-helpers';

// `densenet-workbench scan` through the real binary: report text, JSON, and exit codes.

const tmp = tempDir('dw-scan-cli-');
const cli = path.resolve('bin/densenet-workbench.mjs');
const scan = (...args: string[]) => spawnSync(process.execPath, [cli, 'scan', ...args], { encoding: 'utf8' });

beforeAll(async () => {
  const png = await solidImage('png', 6, 4, [1, 2, 3]);
  writeTree(tmp.dir, { 'ds/cat/1.png': png, 'ds/cat/2.png': png, 'ds/dog/1.png': png, 'ds/dog/.DS_Store': 'x', 'ds/dog/cut.png': png.subarray(0, 30) });
});
afterAll(() => tmp.cleanup());

describe('densenet-workbench scan', () => {
  it('prints the report as text', () => {
    const run = scan(path.join(tmp.dir, 'ds'), '--input', '4x4x1', '--val-fraction', '0.34');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`Dataset ${path.join(tmp.dir, 'ds')} (folder): 2 classes, 3 images.`);
    expect(run.stdout).toMatch(/ {2}cat +2 +1 +1\n {2}dog +1 +1 +0\n/);
    expect(run.stdout).toContain('Image sizes (W×H): 6×4: 3.');
    expect(run.stdout).toContain('  dog/.DS_Store is a hidden file.');
    expect(run.stdout).toMatch(/ {2}dog\/cut\.png is corrupt or truncated \(/);
    expect(run.stdout).toContain('The dataset is usable.');
  });

  it('prints JSON, and exits 2 with one line for a dataset with errors', () => {
    const run = scan(path.join(tmp.dir, 'missing'), '--json');
    expect(run.status).toBe(2);
    expect((JSON.parse(run.stdout) as ScanReport).errors).toEqual([`Dataset folder ${path.join(tmp.dir, 'missing')} does not exist.`]);
    expect(run.stderr).toBe('densenet-workbench: The dataset has 1 error; see the report above.\n');
  });

  it('refuses a bad input shape', () => {
    const run = scan(path.join(tmp.dir, 'ds'), '--input', '4x4x2');
    expect(run.status).toBe(2);
    expect(run.stderr).toBe('densenet-workbench: An input shape must be HxWxC with H and W in 1..4096 and C 1 (grayscale) or 3 (RGB), e.g. 32x32x3; got "4x4x2".\n');
  });
});
