import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScanReport } from '../../main/engine/data';
import { tempDir } from '../support/data';

// `densenet-workbench scan` through the real binary: JSON on stdout and the exit code (one spawn:
// each costs seconds of tsx start-up on this machine).

const tmp = tempDir('dw-scan-cli-');
const cli = path.resolve('bin/densenet-workbench.mjs');
const scan = (...args: string[]) => spawnSync(process.execPath, [cli, 'scan', ...args], { encoding: 'utf8' });

afterAll(() => tmp.cleanup());

describe('densenet-workbench scan (real bin)', () => {
  it('prints JSON, and exits 2 with one line for a dataset with errors', () => {
    const run = scan(path.join(tmp.dir, 'missing'), '--json');
    expect(run.status).toBe(2);
    expect((JSON.parse(run.stdout) as ScanReport).errors).toEqual([`Dataset folder ${path.join(tmp.dir, 'missing')} does not exist.`]);
    expect(run.stderr).toBe('densenet-workbench: The dataset has 1 error; see the report above.\n');
  });

});
