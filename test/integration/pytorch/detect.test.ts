import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clearPyTorchProbes, detectPyTorch } from '../../../main/engine/pytorch/detect';
import { chooseEngine, formatPyTorchDetection } from '../../../main/engine/pytorch/select';
import { describeTorch, TORCH } from '../../support/python';
import { tempRoot } from '../../support/pytorch-runs';

/**
 * Finding a Python for the PyTorch engine, and saying why others were passed over. The
 * interpreters here are real: virtual environments of the test Python (no system site packages,
 * hence no torch), one of them with a torch that only claims an old version.
 */
let root: string;
let noTorch: string;
let oldTorch: string;
let bin: string;

function venv(dir: string): string {
  const r = spawnSync(TORCH.python!, ['-m', 'venv', '--without-pip', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return path.join(dir, 'bin', 'python3');
}

beforeAll(() => {
  root = tempRoot('dw-detect-');
  noTorch = venv(path.join(root, 'no-torch'));
  oldTorch = venv(path.join(root, 'old-torch'));
  const site = spawnSync(oldTorch, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { encoding: 'utf8' }).stdout.trim();
  fs.mkdirSync(path.join(site, 'torch'), { recursive: true });
  fs.writeFileSync(path.join(site, 'torch', '__init__.py'), '__version__ = "1.12.1"\n');
  // A PATH whose python3 is the venv without torch, as pyenv's is on this project's machines.
  bin = path.join(root, 'bin');
  fs.mkdirSync(bin);
  // A wrapper, not a symlink: Python finds its virtual environment from the path it was started by.
  fs.writeFileSync(path.join(bin, 'python3'), `#!/bin/sh\nexec ${noTorch} "$@"\n`, { mode: 0o755 });
  clearPyTorchProbes();
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describeTorch('finding a Python for the PyTorch engine', () => {
  it('passes over a python3 without torch on PATH and finds the one that has it, saying which and why', async () => {
    const d = await detectPyTorch({ env: { PATH: bin }, wellKnown: [TORCH.python!] });
    expect(d.python).toBe(TORCH.python);
    expect(d.source).toBe('well-known');
    expect(d.gpu).toBe(false);
    expect(d.why).toMatch(new RegExp(`^${TORCH.python} \\(well-known place, Python 3\\.\\d+\\.\\d+\\) has torch \\d+\\.\\d+\\S*, CPU only: `));
    expect(d.passedOver).toEqual([{ python: path.join(bin, 'python3'), source: 'PATH', reason: expect.stringMatching(/\(on PATH, Python 3\.\d+\.\d+\): torch is not importable \(ModuleNotFoundError: No module named 'torch'\)$/) }]);
    expect(formatPyTorchDetection(d)).toMatch(/^pytorch: .*\n {2}device: .* CPUs.*\n {2}skipped .*torch is not importable/);
    // Cached per interpreter: asking again does not import torch again.
    const again = await detectPyTorch({ env: { PATH: bin }, wellKnown: [TORCH.python!] });
    expect(again.seconds).toBeLessThan(0.5);
  });

  it('explains a missing python3, a missing torch and a torch too old, and --backend pytorch refuses each with that sentence', async () => {
    const missing = await detectPyTorch({ python: path.join(root, 'nope', 'python3') });
    expect(missing.python).toBeNull();
    expect(missing.why).toBe(`The Python given with --python cannot run the PyTorch engine: ${path.join(root, 'nope', 'python3')} (--python) does not exist.`);
    const none = await detectPyTorch({ env: { PATH: '' }, wellKnown: [] });
    expect(none.why).toMatch(/^No Python with PyTorch ≥ 1\.13 and torchvision was found \(looked at nowhere to look\)\. Install them .* or pass --python PATH\.$/);

    const noTorchD = await detectPyTorch({ python: noTorch });
    expect(noTorchD.why).toMatch(/torch is not importable \(ModuleNotFoundError: No module named 'torch'\)\.$/);
    const old = await detectPyTorch({ python: oldTorch });
    expect(old.why).toMatch(/\(--python, Python 3\.\d+\.\d+\): torch 1\.12\.1 is older than 1\.13, the oldest this engine runs on\.$/);

    for (const python of [path.join(root, 'nope', 'python3'), noTorch, oldTorch]) {
      await expect(chooseEngine({ backend: 'pytorch' }, { python })).rejects.toThrow(/^--backend pytorch cannot be used: The Python given with --python cannot run the PyTorch engine: /);
    }
    await expect(chooseEngine({ backend: 'pytorch', device: 'cuda' }, { python: TORCH.python! })).rejects.toThrow(/^--device cuda cannot be used: .*CPU only.* Use --device cpu or auto\.$/);
  });

  it('auto keeps the TF.js engine without a GPU, without importing torch when the machine shows none, and PyTorch on the CPU only on request', async () => {
    let probed = 0;
    const detect = (o: Parameters<typeof detectPyTorch>[0]) => { probed++; return detectPyTorch(o); };
    const none = await chooseEngine({ backend: 'auto' }, { detect, gpuPresent: () => ({ present: false, what: 'no GPU on this machine' }) });
    expect(none).toEqual({ engine: 'tfjs', detection: null, skipped: { backend: 'pytorch', reason: 'no GPU on this machine: CPU only, chosen only with --backend pytorch' } });
    expect(probed).toBe(0);
    const cpuOnly = await chooseEngine({ backend: 'auto' }, { detect, python: TORCH.python!, gpuPresent: () => ({ present: true, what: 'test' }) });
    expect(cpuOnly.engine).toBe('tfjs');
    expect(cpuOnly.skipped?.reason).toMatch(/CPU only.*CPU only is chosen only with --backend pytorch\.$/);
    expect(await chooseEngine({ backend: 'wasm' }, { detect })).toEqual({ engine: 'tfjs', detection: null });
    const asked = await chooseEngine({ backend: 'pytorch', device: 'cpu' }, { python: TORCH.python! });
    expect(asked.engine).toBe('pytorch');
  });

  it('keeps a run with the two-phase fine-tuning recipe on the TF.js engine, which alone runs it', async () => {
    let probed = 0;
    const detect = (o: Parameters<typeof detectPyTorch>[0]) => { probed++; return detectPyTorch(o); };
    const fineTune = { headEpochs: 3, lrFactor: 0.1, freezeBatchNorm: false };
    expect(await chooseEngine({ backend: 'auto', fineTune }, { detect, gpuPresent: () => ({ present: true, what: 'test' }) }))
      .toEqual({ engine: 'tfjs', detection: null, skipped: { backend: 'pytorch', reason: 'fine-tuning in two phases runs on the TF.js engine only' } });
    expect(probed).toBe(0);
    await expect(chooseEngine({ backend: 'pytorch', fineTune }, { detect })).rejects.toThrow(/^The PyTorch engine does not run the two-phase fine-tuning recipe yet; use a TF\.js backend/);
  });
});
