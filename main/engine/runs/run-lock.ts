import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WorkbenchError } from '../../../shared/errors';
import { removeStaleTempFiles } from './atomic-fs';
import { CHECKPOINT_DIR, LOCK_FILE, isProcessAlive } from './run-files';

/**
 * `trainer.lock`: the pid of the one trainer that writes a run. Taken with an exclusive create
 * before a trainer writes anything but a new run's config.json, released by the same pid when it
 * is done; a lock whose owner is dead (or on another machine) is taken over.
 */

/**
 * Takes the run's lock for this process: refuses when another live process owns it, and takes over
 * a stale lock left by a dead one (after clearing its temp files). Released by `releaseRunLock`.
 */
export function acquireRunLock(runDir: string, pid = process.pid): void {
  const file = path.join(runDir, LOCK_FILE);
  const body = JSON.stringify({ pid, hostname: os.hostname() });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, body, { flag: 'wx' });
      removeStaleTempFiles(runDir);
      removeStaleTempFiles(path.join(runDir, CHECKPOINT_DIR));
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner: { pid?: number; hostname?: string } = {};
    try {
      owner = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof owner;
    } catch { /* a torn lock file is stale by definition */ }
    if (owner.pid !== undefined && owner.pid !== pid && owner.hostname === os.hostname() && isProcessAlive(owner.pid)) {
      throw new WorkbenchError(`Run ${path.basename(runDir)} is already being trained by process ${owner.pid}.`);
    }
    fs.rmSync(file, { force: true });
  }
  throw new WorkbenchError(`Could not take the lock of run ${path.basename(runDir)}: another process keeps taking it.`);
}

export function releaseRunLock(runDir: string, pid = process.pid): void {
  const file = path.join(runDir, LOCK_FILE);
  try {
    const owner = JSON.parse(fs.readFileSync(file, 'utf8')) as { pid?: number };
    if (owner.pid === pid) fs.rmSync(file, { force: true });
  } catch { /* no lock, or unreadable: nothing of ours to release */ }
}
