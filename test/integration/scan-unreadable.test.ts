import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { scanDataset, type ScanReport } from '../../main/engine/data';
import { solidImage, tempDir, writeTree } from '../support/data';

// A file and a folder the scanner has no permission to read get their own line in the report.
// As root, permissions do not stop reads, so the scan then runs through the real CLI as `nobody`.

const tmp = tempDir('dw-unreadable-');
const reasonOf = (r: ScanReport, rel: string) => r.skipped.find((s) => s.path === rel)?.reason;
afterAll(() => tmp.cleanup());

describe('unreadable files', () => {
  const isRoot = process.getuid?.() === 0;

  it('reports a file and a folder it has no permission to read', async () => {
    const dir = path.join(tmp.dir, 'locked');
    const png = await solidImage('png', 3, 3, [1, 2, 3]);
    writeTree(dir, { 'a/ok.png': png, 'a/secret.png': png, 'b/ok.png': png, 'c/hidden.png': png });
    chmodSync(path.join(dir, 'a', 'secret.png'), 0o000);
    chmodSync(path.join(dir, 'c'), 0o000);
    let report: ScanReport;
    if (isRoot) {
      // Root reads files whatever their mode, so the scan runs as `nobody` in a child process
      // through the real CLI; the temp folder must be enterable by that user.
      chmodSync(tmp.dir, 0o755);
      const cli = path.resolve('bin/densenet-workbench.mjs');
      const run = spawnSync(process.execPath, [cli, 'scan', dir, '--json', '--input', '4x4x3'], { uid: 65534, gid: 65534, encoding: 'utf8', env: { ...process.env, HOME: tmp.dir } });
      expect(run.stderr).toContain('The dataset has 1 error');
      expect(run.status).toBe(2);
      report = JSON.parse(run.stdout) as ScanReport;
    } else {
      report = await scanDataset({ kind: 'folder', path: dir }, { inputShape: [4, 4, 3] });
    }
    expect(reasonOf(report, 'a/secret.png')).toMatch(/^cannot be read \(EACCES\)$/);
    expect(reasonOf(report, 'c/')).toMatch(/^is a folder that cannot be listed \(EACCES\); its files were not scanned$/);
    expect(report.counts).toEqual([1, 1, 0]);
  });
});
