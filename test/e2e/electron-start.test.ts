import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// `npm start` on a machine without Electron's binary, for real: scripts/start.mjs runs Electron's
// own installer, which fails (its download host is made unreachable, as offline), prints one line
// saying why and how to fix it, and serves the same UI in browser mode. The test fetches the
// printed URL with its token, then stops everything.

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'wb-start-'));
let child: ChildProcess | undefined;

afterAll(() => {
  // start.mjs runs in its own process group with serve under it: end them together.
  if (child?.pid && child.exitCode === null) {
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe('npm start without the Electron binary', () => {
  it('tries the installer once, says why in one line, and serves browser mode', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // No binary here, whatever node_modules holds: Electron's own lookup points at an empty folder.
      ELECTRON_OVERRIDE_DIST_PATH: join(tmp, 'no-electron'),
      // Offline, deterministically: @electron/get downloads from a port nothing listens on.
      ELECTRON_MIRROR: 'http://127.0.0.1:9/',
      electron_config_cache: join(tmp, 'cache'),
      WORKBENCH_ELECTRON_INSTALL_TIMEOUT_MS: '60000',
      BROWSER: 'none',
    };
    delete env.ELECTRON_SKIP_BINARY_DOWNLOAD;
    child = spawn(process.execPath, [join(ROOT, 'scripts', 'start.mjs')], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (c) => (stderr += c));

    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`No URL within 240 s.\nstdout: ${stdout}\nstderr: ${stderr}`)), 240_000);
      child!.stdout!.on('data', (c) => {
        stdout += c;
        const found = /https?:\/\/\S+/.exec(stdout)?.[0];
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
      });
      child!.on('exit', (code) => reject(new Error(`start.mjs exited with ${code} before printing a URL.\nstdout: ${stdout}\nstderr: ${stderr}`)));
    });

    const reasons = stderr.split('\n').filter((l) => l.includes("Electron's binary could not be downloaded"));
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/\(connect ECONNREFUSED 127\.0\.0\.1:9\); opening the workbench in browser mode instead\. To get the desktop app: .*install\.js/);

    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<div id="app"/);
    const withoutToken = await fetch(new URL('/', url).href);
    expect(withoutToken.status).toBe(401);
    // A fresh checkout builds the renderer first (vite), which takes a while on a busy 2-core machine.
  }, 300_000);
});
