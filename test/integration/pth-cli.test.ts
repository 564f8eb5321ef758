import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedPort, startWeightsServer, type WeightsServer } from '../support/weights-server';

/**
 * `import --weights FILE.pth`, `download` and `import --pretrained` through the real bin, each in a
 * fresh TORCH_HOME, against a loopback server (no test reaches the internet).
 */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/densenet-workbench.mjs', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const body = fs.readFileSync('test/fixtures/pth/tiny_densenet.pth');
const NAME = `tiny-${crypto.createHash('sha256').update(body).digest('hex').slice(0, 8)}.pth`;
let server: WeightsServer;
let root: string;
const fresh = () => fs.mkdtempSync(path.join(root, 'torch-'));

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'pth-cli-'));
  // Under torchvision's real name, but not its content: the hash check must catch it.
  server = await startWeightsServer({ [NAME]: body, 'densenet121-a639ec97.pth': body });
});
afterAll(async () => {
  await server.close();
  fs.rmSync(root, { recursive: true, force: true });
});

const oneLineError = (r: { code: number | null; stdout: string; stderr: string }, message: RegExp) => {
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\bat .*\.(ts|js):\d+/);
};

describe('densenet-workbench import --weights FILE.pth (real bin)', () => {
  it('imports torchvision’s legacy layout and says what it read', async () => {
    const out = path.join(root, 'run-legacy');
    const r = await cli(['import', '--weights', 'test/fixtures/pth/tiny_densenet_legacy.pth', '--input', '32x32x3', '--out', out]);
    expect(r.stderr).not.toMatch(/densenet-workbench:/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Read PyTorch checkpoint (legacy format): renamed 40 keys from torchvision's legacy layout (norm.1 → norm1, conv.2 → conv2), as torchvision's own loader does.");
    expect(r.stdout).toContain("A custom DenseNet read off the weights' shapes (blocks [2, 2], k=4, 8 initial features, bottleneck, θ=0.5, ImageNet stem), which is none of the presets; --variant overrides.");
    expect(r.stdout).toMatch(/Imported custom \(blocks \[2, 2\], k=4, input 32×32×3, 3 classes\) into /);
    expect(fs.existsSync(path.join(out, 'import.json'))).toBe(true);

    // ... and goes back to PyTorch as a torchvision state dict.
    const exported = await cli(['export', out, '--format', 'torchvision', '--checkpoint', 'latest', '--out', path.join(root, 'tv')]);
    expect(exported.code).toBe(0);
    expect(exported.stdout).toMatch(/^Exported custom \(step-0+, step 0\) as a torchvision state dict to .*tv:\n.*model\.safetensors\n.*load_densenet\.py\n.*preprocessing\.json\nInput NCHW 32×32×3, 3 classes; see preprocessing\.json\.\n$/);
  });

  it('trains a new run that starts from a .pth file, with the weights\' architecture and a new classifier', async () => {
    const runs = path.join(root, 'runs-from-file');
    const r = await cli(['train', '--data', 'mnist', '--limit', '40', '--start-from', 'test/fixtures/pth/tiny_densenet.pth', '--input', '32x32x3', '--epochs', '2', '--head-epochs', '1', '--batch', '20', '--runs', runs]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("Starting from PyTorch checkpoint (zip format) of a custom DenseNet (blocks [2, 2], k=4, 8 initial features, bottleneck, θ=0.5, ImageNet stem), 3 classes.");
    expect(r.stdout).toContain("Input 32×32×3, normalized as the weights were trained; a new classifier for 10 classes replaces the weights' 3-class one.");
    expect(r.stdout).toMatch(/Fine-tuning phase 2 of 2: every layer trains from epoch 2/);
    const [run] = fs.readdirSync(runs);
    expect(JSON.parse(fs.readFileSync(path.join(runs, run, 'import.json'), 'utf8'))).toMatchObject({ kind: 'torchvision-pth', headReplaced: true });
  });

  it('refuses to prepare a pretrained start for the PyTorch engine, which cannot run it', async () => {
    const r = await cli(['train', '--data', 'mnist', '--limit', '20', '--start-from', 'test/fixtures/pth/tiny_densenet.pth', '--prepare-only', '--runs', path.join(root, 'runs-prepare')]);
    oneLineError(r, /--prepare-only prepares a run for the PyTorch engine, which does not run pretrained starts or the fine-tuning phases yet/);
  });

  it('exits 2 with one line for a pickle that names os.system', async () => {
    oneLineError(await cli(['import', '--weights', 'test/fixtures/pth/evil_os_system.pth', '--out', path.join(root, 'never')]), /was refused: its pickle asks for the Python global posix\.system/);
    expect(fs.existsSync(path.join(root, 'never'))).toBe(false);
  });
});

describe('densenet-workbench download (real bin, loopback server)', () => {
  it('lists torchvision’s ImageNet weights and the cache folder', async () => {
    const home = fresh();
    const r = await cli(['download', '--list'], { TORCH_HOME: home });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`torchvision ImageNet weights (cache: ${path.join(home, 'hub', 'checkpoints')}):`);
    expect(r.stdout).toMatch(/densenet121\s+30\.8 MB\s+top-1 74\.4%\s+https:\/\/download\.pytorch\.org\/models\/densenet121-a639ec97\.pth/);
  });

  it('downloads into the torch hub cache, resumes a cut download, and finds it in the cache afterwards', async () => {
    const home = fresh();
    server.behave({ cutAfter: 12_345 });
    const cut = await cli(['download', server.url(NAME)], { TORCH_HOME: home });
    oneLineError(cut, new RegExp(`broke off after 12345 of ${body.length} bytes .* Run the same command again to resume it from there\\.`));
    server.behave({});
    const resumed = await cli(['download', server.url(NAME)], { TORCH_HOME: home });
    expect(resumed.code).toBe(0);
    const file = path.join(home, 'hub', 'checkpoints', NAME);
    expect(resumed.stdout).toMatch(new RegExp(`^Downloaded \\(resumed at 12\\.3 kB\\): ${file.replace(/[.]/g, '\\.')} \\(39\\.2 kB, sha256 [0-9a-f]{12}…, verified\\)\\.\\n$`));
    expect(fs.readFileSync(file).equals(body)).toBe(true);
    const again = await cli(['download', server.url(NAME), '--json'], { TORCH_HOME: home });
    expect(JSON.parse(again.stdout)).toMatchObject({ file, cached: true, bytes: body.length });
  });

  it('refuses a file whose sha256 does not match torchvision’s name for it', async () => {
    const home = fresh();
    const r = await cli(['download', 'densenet121'], { TORCH_HOME: home, WORKBENCH_WEIGHTS_URL_BASE: server.base });
    oneLineError(r, /The downloaded file \(\d+ bytes\) is damaged or not the one asked for: its sha256 starts with [0-9a-f]{8}, not a639ec97 as its name says\./);
    expect(fs.readdirSync(path.join(home, 'hub', 'checkpoints'))).toEqual([]);
  });

  it('offline: download and import --pretrained say where to put the file', async () => {
    const home = fresh();
    const base = `http://127.0.0.1:${await closedPort()}/models/`;
    const where = path.join(home, 'hub', 'checkpoints', 'densenet121-a639ec97.pth').replace(/[.]/g, '\\.');
    const message = new RegExp(`Cannot reach 127\\.0\\.0\\.1:\\d+ to download .*densenet121-a639ec97\\.pth \\(ECONNREFUSED\\)\\. Without internet, download .* on a machine that has it and copy it to ${where} \\(the torch hub cache, which PyTorch uses too\\), or import the file from anywhere with --weights FILE\\.`);
    oneLineError(await cli(['download', 'densenet121'], { TORCH_HOME: home, WORKBENCH_WEIGHTS_URL_BASE: base }), message);
    oneLineError(await cli(['import', '--pretrained', 'densenet121', '--out', path.join(home, 'run')], { TORCH_HOME: home, WORKBENCH_WEIGHTS_URL_BASE: base }), message);
    expect(fs.existsSync(path.join(home, 'run'))).toBe(false);
    const runs = path.join(home, 'runs');
    oneLineError(await cli(['train', '--data', 'mnist', '--limit', '20', '--pretrained', 'densenet121', '--runs', runs], { TORCH_HOME: home, WORKBENCH_WEIGHTS_URL_BASE: base }), message);
    expect(fs.existsSync(runs) ? fs.readdirSync(runs) : []).toEqual([]);
  });
});
