import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

/**
 * The interpreter the PyTorch engine's tests run on, and a `describe` that skips (saying why) where
 * there is none. CI installs Debian's python3-torch, importable from /usr/bin/python3 (a pyenv
 * python3 first on PATH may lack torch); WORKBENCH_TEST_PYTHON overrides.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PYTORCH_PACKAGE_ROOT = path.join(ROOT, 'main', 'engine', 'pytorch');
export const PYTHON_TESTS = path.join(ROOT, 'test', 'support', 'pytorch');

function find(): { python: string | null; reason: string } {
  const tried: string[] = [];
  const candidates = process.env.WORKBENCH_TEST_PYTHON ? [process.env.WORKBENCH_TEST_PYTHON] : ['/usr/bin/python3', 'python3'];
  for (const py of candidates) {
    const r = spawnSync(py, ['-c', 'import torch, torchvision, numpy; print(torch.__version__)'], { encoding: 'utf8', timeout: 30_000 });
    if (r.status === 0) return { python: py, reason: `torch ${r.stdout.trim()}` };
    tried.push(`${py}: ${r.error ? r.error.message : (r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`)}`);
  }
  return { python: null, reason: `no Python with torch and torchvision (${tried.join('; ')}); install them with apt-get install python3-torch python3-torchvision` };
}

export const TORCH = find();

/** describe() where torch is importable; elsewhere a skipped suite and one printed line saying why. */
export function describeTorch(name: string, fn: () => void): void {
  if (TORCH.python) describe(name, fn);
  else {
    console.log(`[skip] ${name}: ${TORCH.reason}`);
    describe.skip(name, fn);
  }
}

/** The environment a Python child needs to import densenet_torch. */
export function pythonEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const pythonPath = [PYTORCH_PACKAGE_ROOT, PYTHON_TESTS, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
  // One compute thread: the tests' nets are tiny, and on a loaded 2-core machine OpenMP's second
  // thread makes every step wait for a core (3× slower here).
  return { ...process.env, PYTHONPATH: pythonPath, PYTHONDONTWRITEBYTECODE: '1', WORKBENCH_TORCH_THREADS: '1', ...extra };
}

/** Runs the test interpreter; throws with its stderr when it fails. */
export function python(args: string[], options: SpawnSyncOptions & { input?: string } = {}): string {
  const r = spawnSync(TORCH.python!, args, { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 2 ** 20, ...options, env: pythonEnv(options.env as NodeJS.ProcessEnv) });
  if (r.status !== 0) throw new Error(`python ${args.join(' ')} exited ${r.status ?? r.signal}:\n${String(r.stderr ?? '').slice(-4000)}`);
  return String(r.stdout);
}

/** Runs a helper script of test/support/pytorch with a JSON input; returns its JSON output. */
export function pythonJson<T>(script: string, input: unknown): T {
  const out = python([path.join(PYTHON_TESTS, script)], { input: JSON.stringify(input) });
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}
