import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

/**
 * Browser mode for the end-to-end tests: a private renderer build, a real `densenet-workbench
 * serve` on it (which forks real trainers), and Debian's Chromium driven by playwright-core.
 */
export const CHROMIUM = '/usr/bin/chromium';
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const hasChromium = existsSync(CHROMIUM);

export interface BrowserServe {
  url: string;
  browser: Browser;
  close(): Promise<void>;
}

/** Builds the renderer into `work/renderer`, serves it with runs in `work/runs` and `work` as the browsable root. */
export async function startBrowserServe(work: string): Promise<BrowserServe> {
  const rendererDir = path.join(work, 'renderer');
  // A private, fresh renderer build: never a stale dist/ nor a race with another test's build.
  const { build } = await import('vite');
  await build({ configFile: path.join(ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir: rendererDir, emptyOutDir: true } });
  const runs = path.join(work, 'runs');
  mkdirSync(runs, { recursive: true });
  const proc: ChildProcess = spawn(process.execPath, [path.join(ROOT, 'bin/densenet-workbench.mjs'), 'serve', '--no-open', '--port', '0', '--runs', runs, '--root', work, '--renderer', rendererDir], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr!.on('data', (c) => (err += c));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve printed no URL in 60 s; stderr: ${err}`)), 60_000);
    proc.stdout!.on('data', (chunk) => {
      out += chunk;
      const m = /http:\/\/127\.0\.0\.1:\d+\/\?token=\S+/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    });
    proc.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
  return {
    url,
    browser,
    async close() {
      await browser.close();
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
    },
  };
}
