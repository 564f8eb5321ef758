import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A thread that must end the whole process (an XNNPACK worker thread that faulted, see threads.ts)
 * leaves one sentence here first, named by the process id, so whoever started the process can say
 * why it died instead of only "killed by SIGKILL".
 */
export function fatalNotePath(pid: number): string {
  return path.join(os.tmpdir(), `densenet-workbench-fatal-${pid}.txt`);
}

/** Reads and removes the note process `pid` left, if any. */
export function takeFatalNote(pid: number): string | null {
  const file = fatalNotePath(pid);
  try {
    const text = fs.readFileSync(file, 'utf8').trim();
    fs.rmSync(file, { force: true });
    return text || null;
  } catch {
    return null;
  }
}
