import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Finds a Python that can run the PyTorch engine, and says what it found: the backend report's
 * PyTorch half. Each interpreter is probed once per process (`python -m densenet_torch --probe`,
 * which imports torch: about 2 s; an interpreter without torch answers in a fraction of that).
 *
 * Where it looks, in order (the first one asked for by name is the only one tried):
 *   1. `--python PATH` (or a run's setting), then the WORKBENCH_PYTHON environment variable;
 *   2. `python3` and `python` on PATH;
 *   3. well-known places: /usr/bin/python3 (Debian's python3-torch), /usr/local/bin/python3,
 *      /opt/homebrew/bin/python3, /opt/conda/bin/python3 and ~/miniconda3, ~/anaconda3, ~/miniforge3.
 * The first interpreter whose torch has a usable GPU wins; failing that, the first that runs the
 * engine at all (CPU only). The report names the one picked and why every other one was passed over.
 *
 * The rules for torch (densenet_torch/device.py holds them):
 *   - torch ≥ 1.13 runs the engine (Debian 12 ships 1.13; CI trains on it, on the CPU);
 *   - a GPU (CUDA, ROCm, MPS) needs torch ≥ 2.0: CUDA 12 and a working MPS backend came with it;
 *   - without a usable GPU the engine is "CPU only": `--backend auto` keeps the TF.js engine then,
 *     and PyTorch on the CPU is used when asked for (`--backend pytorch`).
 */
/**
 * The folder holding the Python package `densenet_torch` (put on PYTHONPATH): beside this module,
 * in the sources and in the Electron bundles alike; in a packaged app, in app.asar.unpacked, since
 * Python cannot read inside an asar archive.
 */
export const PACKAGE_ROOT = path.dirname(fileURLToPath(import.meta.url)).replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2');

export interface TorchGpu {
  kind: 'cuda' | 'mps';
  index: number;
  name: string;
  memoryBytes: number | null;
}

/** What `--probe` prints (densenet_torch/probe.py). */
export interface TorchProbe {
  python: string;
  pythonVersion: string;
  torch?: string;
  torchvision?: string;
  minTorch?: string;
  minTorchGpu?: string;
  supported?: boolean;
  cuda?: string | null;
  rocm?: string | null;
  gpus?: TorchGpu[];
  gpuUsable?: boolean;
  gpuSkipped?: string | null;
  cudaError?: string;
  cpu?: string;
  cpus?: number;
  memoryBytes?: number | null;
  error?: string;
}

export interface Candidate {
  /** The path as found (not resolved: a virtualenv's python3 is a symlink to the system one, yet differs). */
  path: string;
  source: 'option' | 'env' | 'PATH' | 'well-known';
}

export interface PassedOver {
  python: string;
  source: Candidate['source'];
  reason: string;
}

export interface PyTorchDetection {
  /** The interpreter that runs the engine, or null when none can. */
  python: string | null;
  probe: TorchProbe | null;
  source: Candidate['source'] | null;
  /** True when its torch has a usable GPU (what `auto` needs to prefer PyTorch). */
  gpu: boolean;
  /** One sentence: which interpreter, and why. */
  why: string;
  passedOver: PassedOver[];
  seconds: number;
}

export interface DetectOptions {
  /** An interpreter asked for by name (`--python`); when given, nothing else is tried. */
  python?: string;
  env?: NodeJS.ProcessEnv;
  /** Override the well-known places (tests). */
  wellKnown?: string[];
  timeoutMs?: number;
}

export function wellKnownPythons(home = os.homedir()): string[] {
  const list = ['/usr/bin/python3', '/usr/local/bin/python3', '/opt/homebrew/bin/python3', '/opt/conda/bin/python3'];
  for (const dist of ['miniconda3', 'anaconda3', 'miniforge3', 'mambaforge']) list.push(path.join(home, dist, 'bin', 'python3'));
  if (process.platform === 'win32') list.push('py');
  return list;
}

function onPath(name: string, env: NodeJS.ProcessEnv): string[] {
  const exts = process.platform === 'win32' ? ['.exe', ''] : [''];
  const found: string[] = [];
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    for (const ext of exts) {
      const file = path.join(dir, name + ext);
      try {
        fs.accessSync(file, fs.constants.X_OK);
        if (fs.statSync(file).isFile()) found.push(file);
      } catch { /* not here */ }
    }
  }
  return found;
}

/** Where to look, in order, without duplicates (two paths to one file in one folder count once). */
export function candidates(options: DetectOptions = {}): Candidate[] {
  const env = options.env ?? process.env;
  if (options.python) return [{ path: options.python, source: 'option' }];
  if (env.WORKBENCH_PYTHON) return [{ path: env.WORKBENCH_PYTHON, source: 'env' }];
  const list: Candidate[] = [
    ...onPath('python3', env).map((p) => ({ path: p, source: 'PATH' as const })),
    ...onPath('python', env).map((p) => ({ path: p, source: 'PATH' as const })),
    ...(options.wellKnown ?? wellKnownPythons()).map((p) => ({ path: p, source: 'well-known' as const })),
  ];
  const seen = new Set<string>();
  return list.filter((c) => {
    let key = c.path;
    try {
      key = path.join(fs.realpathSync(path.dirname(c.path)), path.basename(c.path));
    } catch { /* missing: keep the path as given */ }
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const probes = new Map<string, Promise<TorchProbe>>();

/** Runs `--probe` with `python`, once per process and interpreter. Rejects with a sentence. */
export function probePython(python: string, timeoutMs = 20_000, env: NodeJS.ProcessEnv = process.env): Promise<TorchProbe> {
  let p = probes.get(python);
  if (!p) {
    p = new Promise<TorchProbe>((resolve, reject) => {
      if (python.includes(path.sep) && !fs.existsSync(python)) {
        reject(new Error('does not exist'));
        return;
      }
      const childEnv = { ...env, PYTHONPATH: [PACKAGE_ROOT, env.PYTHONPATH].filter(Boolean).join(path.delimiter), PYTHONDONTWRITEBYTECODE: '1' };
      execFile(python, ['-m', 'densenet_torch', '--probe'], { env: childEnv, timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
        const line = stdout.trim().split('\n').pop() ?? '';
        try {
          if (!err) {
            resolve(JSON.parse(line) as TorchProbe);
            return;
          }
        } catch { /* reported below */ }
        const code = (err as NodeJS.ErrnoException | null)?.code;
        if (code === 'ENOENT') reject(new Error('is not installed (not found)'));
        else if (code === 'EACCES') reject(new Error('cannot be run (permission denied)'));
        else if ((err as { killed?: boolean } | null)?.killed) reject(new Error(`did not answer within ${timeoutMs / 1000} s`));
        else reject(new Error(`failed to run the probe (${(stderr.trim().split('\n').pop() || err?.message || 'no output').slice(0, 300)})`));
      });
    });
    probes.set(python, p);
  }
  return p;
}

function describe(c: Candidate, probe: TorchProbe | null): string {
  const version = probe?.pythonVersion ? `, Python ${probe.pythonVersion}` : '';
  const where = { option: '--python', env: 'WORKBENCH_PYTHON', PATH: 'on PATH', 'well-known': 'well-known place' }[c.source];
  return `${c.path} (${where}${version})`;
}

/** Looks for a Python that runs the engine; never throws (a missing one is a `null` python with reasons). */
export async function detectPyTorch(options: DetectOptions = {}): Promise<PyTorchDetection> {
  const started = Date.now();
  const passedOver: PassedOver[] = [];
  let cpuOnly: { c: Candidate; probe: TorchProbe } | null = null;
  const list = candidates(options);
  for (const c of list) {
    let probe: TorchProbe;
    try {
      probe = await probePython(c.path, options.timeoutMs, options.env);
    } catch (err) {
      // A well-known place that holds nothing is not worth a line of the report.
      if (!(c.source === 'well-known' && !fs.existsSync(c.path))) {
        passedOver.push({ python: c.path, source: c.source, reason: `${describe(c, null)} ${(err as Error).message}` });
      }
      continue;
    }
    if (probe.error || !probe.supported) {
      passedOver.push({ python: c.path, source: c.source, reason: `${describe(c, probe)}: ${probe.error ?? `torch ${probe.torch} cannot run the engine`}` });
      continue;
    }
    if (probe.gpuUsable) {
      if (cpuOnly) passedOver.push({ python: cpuOnly.c.path, source: cpuOnly.c.source, reason: `${describe(cpuOnly.c, cpuOnly.probe)}: CPU only, and ${c.path} has a GPU` });
      const gpu = probe.gpus?.[0];
      return { python: c.path, probe, source: c.source, gpu: true, passedOver, seconds: (Date.now() - started) / 1000,
        why: `${describe(c, probe)} has torch ${probe.torch} with ${gpu?.kind === 'mps' ? 'Apple MPS' : `CUDA ${probe.cuda ?? probe.rocm ?? ''}`.trim()} on ${gpu?.name}.` };
    }
    if (!cpuOnly) cpuOnly = { c, probe };
    else passedOver.push({ python: c.path, source: c.source, reason: `${describe(c, probe)}: CPU only, like ${cpuOnly.c.path} found first` });
  }
  if (cpuOnly) {
    const { c, probe } = cpuOnly;
    return { python: c.path, probe, source: c.source, gpu: false, passedOver, seconds: (Date.now() - started) / 1000,
      why: `${describe(c, probe)} has torch ${probe.torch}, CPU only: ${probe.gpuSkipped ?? 'no GPU'}.` };
  }
  const looked = list.length === 0 ? 'nowhere to look' : list.map((c) => c.path).join(', ');
  return { python: null, probe: null, source: null, gpu: false, passedOver, seconds: (Date.now() - started) / 1000,
    why: options.python
      ? `The Python given with --python cannot run the PyTorch engine: ${passedOver[0]?.reason ?? options.python}.`
      : `No Python with PyTorch ≥ 1.13 and torchvision was found (looked at ${looked}). Install them (e.g. apt-get install python3-torch python3-torchvision, or pip install torch torchvision), or pass --python PATH.` };
}

/** Forgets the probes (tests; or after the user installed torch in a long-running host). */
export function clearPyTorchProbes(): void {
  probes.clear();
}
