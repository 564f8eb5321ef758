import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { data, img, isPng, json, ok, readJson, sb, shapes, userError } from './sandbox';

/** Settled by the export test; predict runs on its exports. */
let markExported: (ok: boolean) => void;
const exported = new Promise<boolean>((resolve) => (markExported = resolve));

/** The commands that read the shared run: runs, eval, inspect, export, report, and predict on its exports. */
export function runsEvalInspectExportCommands(): void {
  it('runs lists the default store, and takes --runs (and the old --out)', async () => {
    const [byEnv, byFlag, asJson, legacy, empty] = await Promise.all([
      sb.cli(['runs']),
      sb.cli(['runs', '--runs', sb.runs], { env: { WORKBENCH_RUNS_DIR: '' } }),
      sb.cli(['runs', '--json']),
      sb.cli(['runs', '--out', sb.runs], { env: { WORKBENCH_RUNS_DIR: '' } }),
      sb.cli(['runs', '--runs', path.join(sb.work, 'no-runs')]),
    ]);
    for (const [r, what] of [[byEnv, 'runs'], [byFlag, 'runs --runs'], [legacy, 'runs --out']] as const) {
      ok(r, what);
      expect(r.stdout).toMatch(new RegExp(`${shapes.id}\\s+shapes\\s+finished\\s+7/7 \\(100%\\)`));
    }
    ok(asJson, 'runs --json');
    expect(json<{ id: string; status: string }[]>(asJson).find((x) => x.id === shapes.id)).toMatchObject({ status: 'finished' });
    ok(empty, 'runs (empty)');
    expect(empty.stdout).toMatch(/^No runs under .*no-runs\.$/m);
  });

  it('eval RUN prints accuracy, per-class precision and recall and the confusion matrix; --data and --json too', async () => {
    const [text, asJson, other] = await Promise.all([
      sb.cli(['eval', shapes.id]),
      sb.cli(['eval', 'shapes', '--json']),
      sb.cli(['eval', shapes.dir, '--data', data, '--json']),
    ]);
    ok(text, 'eval');
    expect(text.stdout).toMatch(new RegExp(`Run ${shapes.id}, checkpoint step-\\d{9} \\(step \\d+\\), validation split: 3 images, accuracy`));
    expect(text.stdout).toMatch(/Confusion matrix \(rows: true class/);
    ok(asJson, 'eval --json');
    expect(json(asJson)).toMatchObject({ run: shapes.id, data: 'validation split', samples: 3, classes: ['blue', 'green', 'red'] });
    ok(other, 'eval --data');
    expect(json(other)).toMatchObject({ samples: 27 });
  });

  it('inspect RUN writes JSON, heat maps and activation sheets for every kind of inspection', async () => {
    const out = path.join(sb.work, 'inspect');
    const r = await sb.cli(['inspect', 'shapes', '--checkpoint', 'best', '--contributions', '--stats', '--activations', img('red.png'), '--ablation', '--evaluation', '--gradients', '--out', out], { timeoutMs: 300_000 });
    ok(r, 'inspect');
    expect(r.stdout).toMatch(/Layer statistics at step \d+/);
    expect(r.stdout).toMatch(/Block 1 contributions/);
    expect(r.stdout).toMatch(/Activation maps of sample 0 \(red\.png\)/);
    expect(r.stdout).toMatch(/Layer ablation: baseline validation accuracy/);
    expect(r.stdout).toMatch(/Validation accuracy .*%\./);
    expect(r.stdout).toMatch(/Gradient flow at step 50:/);
    for (const f of ['stats.json', 'contributions.json', 'activations.json', 'ablation.json', 'evaluation.json', 'gradients.json']) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    for (const b of [1, 2, 3]) expect(await isPng(path.join(out, `contributions-block${b}.png`))).toBe(true);
    expect(await isPng(path.join(out, 'gradients.png'))).toBe(true);
    const sheets = fs.readdirSync(path.join(out, 'activations'));
    expect(sheets).toContain('conv2_block1.png');
    for (const s of sheets) expect(await isPng(path.join(out, 'activations', s))).toBe(true);

    const [bySample, asJson, latest] = await Promise.all([
      sb.cli(['inspect', shapes.id, '--activations', '1', '--out', path.join(sb.work, 'inspect-1')]),
      sb.cli(['inspect', shapes.id, '--contributions', '--json', '--out', path.join(sb.work, 'inspect-json')]),
      sb.cli(['inspect', shapes.id, '--checkpoint', 'latest', '--stats', '--out', path.join(sb.work, 'inspect-latest')]),
    ]);
    ok(bySample, 'inspect --activations N');
    expect(bySample.stdout).toMatch(/Activation maps of sample 1/);
    ok(asJson, 'inspect --json');
    expect(JSON.parse(asJson.stdout.trim().split('\n')[0])).toMatchObject({ type: 'contributions', runId: shapes.id });
    ok(latest, 'inspect --checkpoint latest');
    expect(readJson<{ step: number }>(path.join(sb.work, 'inspect-latest', 'stats.json')).step).toBe(56);
    userError(await sb.cli(['inspect', shapes.id]), /Say what to inspect/);
  });

  it('export writes ONNX (BN folded, NHWC), TF.js and torchvision with preprocessing.json; best is the best epoch\'s checkpoint', async () => {
    try {
      await exportAll();
      markExported(true);
    } catch (err) {
      markExported(false);
      throw err;
    }
  });

  async function exportAll(): Promise<void> {
    const onnxDir = path.join(sb.work, 'onnx');
    const tfjsDir = path.join(sb.work, 'tfjs');
    const torchvisionDir = path.join(sb.work, 'torchvision');
    const [onnx, tfjs, latest, torchvision] = await Promise.all([
      sb.cli(['export', 'shapes', '--format', 'onnx', '--fold-bn', '--layout', 'NHWC', '--out', onnxDir, '--checkpoint', 'best']),
      sb.cli(['export', shapes.id, '--format', 'tfjs', '--out', tfjsDir]),
      sb.cli(['export', shapes.id, '--format', 'onnx', '--checkpoint', 'latest']),
      sb.cli(['export', 'shapes', '--format', 'torchvision', '--out', torchvisionDir]),
    ]);
    const best = readJson<{ best: { step: number } }>(path.join(shapes.dir, 'summary.json')).best.step;
    ok(onnx, 'export onnx');
    expect(onnx.stdout).toMatch(new RegExp(`Exported demo-bc-tiny \\(step-\\d{9}, step ${best}\\) as ONNX opset 13, batch norms folded to ${onnxDir}`));
    expect(fs.statSync(path.join(onnxDir, 'model.onnx')).size).toBeGreaterThan(10_000);
    expect(readJson(path.join(onnxDir, 'preprocessing.json'))).toMatchObject({ input: { layout: 'NHWC', height: 12, width: 12, channels: 3 }, classes: ['blue', 'green', 'red'], source: { step: best } });
    ok(tfjs, 'export tfjs');
    for (const f of ['model.json', 'weights.bin', 'preprocessing.json']) expect(fs.existsSync(path.join(tfjsDir, f)), f).toBe(true);
    ok(latest, 'export --checkpoint latest');
    expect(readJson(path.join(shapes.dir, 'exports', 'onnx', 'preprocessing.json'))).toMatchObject({ source: { step: 56 } });
    ok(torchvision, 'export torchvision');
    for (const f of ['model.safetensors', 'load_densenet.py', 'preprocessing.json']) expect(fs.existsSync(path.join(torchvisionDir, f)), f).toBe(true);
  }

  it('report RUN writes a self-contained HTML report and the metrics CSV', async () => {
    const file = path.join(sb.work, 'report.html');
    const [r, byDefault] = await Promise.all([sb.cli(['report', 'shapes', '--out', file]), sb.cli(['report', shapes.id])]);
    ok(r, 'report');
    expect(r.stdout).toBe(`Report: ${file}\nMetrics CSV: ${file.replace(/\.html$/, '.csv')}\n`);
    const html = fs.readFileSync(file, 'utf8');
    expect(html).toMatch(/<h2>Final metrics<\/h2>/);
    expect(html).toMatch(/Final learning rate<\/th><td>0\.001</);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    expect(fs.readFileSync(file.replace(/\.html$/, '.csv'), 'utf8').split('\n')[0]).toMatch(/^type,step,epoch/);
    ok(byDefault, 'report (default)');
    expect(fs.existsSync(path.join(shapes.dir, 'report.html'))).toBe(true);
  });

  it('predict classifies images with the run and its TF.js, ONNX and torchvision exports alike', async () => {
    expect(await exported, 'the export test failed, so there is nothing to predict with').toBe(true);
    const images = [img('red.png'), img('blue.jpg')];
    const [run, tfjs, onnx, torchvision, text] = await Promise.all([
      sb.cli(['predict', 'shapes', ...images, '--top', '2', '--json']),
      sb.cli(['predict', path.join(sb.work, 'tfjs'), ...images, '--top', '5', '--json']),
      sb.cli(['predict', path.join(sb.work, 'onnx'), ...images, '--json']),
      sb.cli(['predict', path.join(sb.work, 'torchvision'), ...images, '--json']),
      sb.cli(['predict', shapes.dir, images[0]]),
    ]);
    type P = { kind: string; predictions: { file: string; top: { label: string; probability: number }[]; logits: number[] }[] };
    for (const [r, what] of [[run, 'predict run'], [tfjs, 'predict tfjs'], [onnx, 'predict onnx'], [torchvision, 'predict torchvision'], [text, 'predict']] as const) ok(r, what);
    const [a, b, c, d] = [json<P>(run), json<P>(tfjs), json<P>(onnx), json<P>(torchvision)];
    expect([a.kind, b.kind, c.kind, d.kind]).toEqual(['run', 'tfjs-layers', 'onnx', 'torchvision']);
    expect(a.predictions[0].top).toHaveLength(2);
    for (let i = 0; i < 2; i++) {
      expect(b.predictions[i].top[0].label).toBe(a.predictions[i].top[0].label);
      expect(c.predictions[i].top[0].label).toBe(a.predictions[i].top[0].label);
      expect(d.predictions[i].top[0].label).toBe(a.predictions[i].top[0].label);
      // The ONNX export folds batch norms; TF.js is the run's own graph.
      a.predictions[i].logits.forEach((v, k) => expect(Math.abs(v - b.predictions[i].logits[k])).toBeLessThan(1e-4));
    }
    expect(text.stdout).toMatch(/red\.png\n\s+\d+\.\d\d%\s+(red|green|blue)\n/);
  });
}
