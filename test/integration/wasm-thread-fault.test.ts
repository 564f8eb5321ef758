import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { takeFatalNote } from '../../main/engine/backend/wasm/fatal-note';

// An XNNPACK worker thread that faults (here: handed an input that runs past the end of the heap,
// as a failed allocation would) must end the process with a reason within seconds, not leave its
// main thread waiting forever for that thread's share of the work.
const root = path.resolve(__dirname, '..', '..');

describe('a fault on an XNNPACK worker thread', () => {
  it('ends the process within seconds with the reason, on stderr and in a fatal note', async () => {
    const t0 = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test', 'support', 'xnnpack-fault.ts')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal });
      });
    });
    expect(stdout).toContain('threads 2');
    expect(stdout).not.toContain('no fault');
    expect(exit.signal).toBe('SIGKILL');
    // Start-up (tsx, tfjs, the wasm backend) takes most of it; the fault itself ends it at once.
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(stderr).toMatch(/densenet-workbench: An XNNPACK worker thread of the wasm backend failed \(memory access out of bounds\); the process ends/);
    expect(takeFatalNote(child.pid!)).toMatch(/^An XNNPACK worker thread of the wasm backend failed/);
    expect(takeFatalNote(child.pid!)).toBeNull();
  });
});
