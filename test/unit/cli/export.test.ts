import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { registerExport } from '../../../main/cli/commands/export';
import { registerImport } from '../../../main/cli/commands/import';
import { registerPredict } from '../../../main/cli/commands/predict';
import { registerReport } from '../../../main/cli/commands/report';

/** The four commands wired into a fresh program, run in-process with stdout captured. */
async function cli(...args: string[]): Promise<string> {
  const program = new Command('densenet-workbench').exitOverride();
  for (const register of [registerImport, registerExport, registerReport, registerPredict]) register(program);
  const out: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    await program.parseAsync(args, { from: 'user' });
  } finally {
    spy.mockRestore();
  }
  return out.join('');
}

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'export-cli-'));
});
afterAll(async () => {
  fs.rmSync(root, { recursive: true, force: true });
  await tf.setBackend('cpu');
});

describe('CLI: import, export, report, predict', () => {
  it('imports a .pth with a two-phase fine-tune recipe that the run keeps', async () => {
    const run = path.join(root, 'run-ft');
    const out = await cli('import', '--weights', 'test/fixtures/pth/tiny_densenet.pth', '--input', '32x32x3', '--classes', '4', '--head-epochs', '2', '--epochs', '6', '--out', run);
    expect(out).toContain('Fine-tuning in two phases: the classifier alone for 2 epochs, then every layer at the learning rate × 0.1; `resume` the run to train it.');
    const config = JSON.parse(fs.readFileSync(path.join(run, 'config.json'), 'utf8'));
    expect(config.settings).toMatchObject({ epochs: 6, fineTune: { headEpochs: 2, lrFactor: 0.1, freezeBatchNorm: false } });
  });

  it('imports the torchvision fixture, exports it to ONNX and predicts a JPEG with the export', async () => {
    const run = path.join(root, 'run');
    expect(await cli('import', '--weights', 'test/fixtures/torchvision/tiny_densenet.safetensors', '--input', '32x32x3', '--classes', '4', '--freeze-features', '--out', run))
      .toMatch(/classifier was re-initialized[\s\S]*Features frozen: 68 of/);
    const out = path.join(root, 'onnx');
    expect(await cli('export', run, '--format', 'onnx', '--fold-bn', '--checkpoint', 'latest', '--out', out)).toContain('ONNX opset 13, batch norms folded');
    expect(await cli('report', run)).toContain(path.join(run, 'report.html'));
    const image = path.join(root, 'i.jpg');
    await sharp({ create: { width: 50, height: 40, channels: 3, background: { r: 10, g: 200, b: 90 } } }).jpeg().toFile(image);
    const json = JSON.parse(await cli('predict', out, image, '--top', '2', '--json', '--backend', 'cpu'));
    expect(json.kind).toBe('onnx');
    expect(json.predictions[0].top).toHaveLength(2);
    expect(json.predictions[0].top[0].label).toMatch(/^class_[0-3]$/);
  });

  it('turns bad flags into user errors', async () => {
    await expect(cli('export', root, '--format', 'keras')).rejects.toThrow('--format must be tfjs, onnx or torchvision; got "keras".');
    await expect(cli('export', root, '--format', 'tfjs', '--layout', 'NHWC')).rejects.toThrow(/--layout applies to ONNX exports only/);
    await expect(cli('import', '--out', path.join(root, 'x'))).rejects.toThrow(/exactly one source: --weights FILE \(.pth or .safetensors\) or --tfjs model.json/);
    await expect(cli('import', '--weights', 'x.safetensors', '--classes', '1', '--out', path.join(root, 'y'))).rejects.toThrow('--classes must be a whole number ≥ 2; got "1".');
    await expect(cli('import', '--weights', 'x.pth', '--head-epochs', '-2', '--out', path.join(root, 'y'))).rejects.toThrow('--head-epochs must be a whole number ≥ 0; got "-2".');
    await expect(cli('import', '--weights', 'x.pth', '--lr-factor', '3', '--out', path.join(root, 'y'))).rejects.toThrow('--lr-factor must be a number in (0, 1]; got "3".');
    await expect(cli('import', '--weights', 'x.pth', '--head-epochs', '5', '--epochs', '4', '--out', path.join(root, 'y'))).rejects.toThrow(/--head-epochs 5 is more than the run's 4 epochs/);
    await expect(cli('import', '--weights', 'x.pth', '--head-epochs', '1', '--freeze-features', '--out', path.join(root, 'y'))).rejects.toThrow(/Give one of them\./);
    await expect(cli('predict', root, 'a.png', '--top', 'many')).rejects.toThrow('--top must be a whole number ≥ 1; got "many".');
  });
});
