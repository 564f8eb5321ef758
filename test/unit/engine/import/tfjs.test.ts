import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { buildDenseNet } from '../../../../main/engine/model/densenet';
import { exportRun } from '../../../../main/engine/export/export-run';
import { importRun } from '../../../../main/engine/import/import-run';
import { saveLayersModel } from '../../../../main/engine/export/tfjs-files';
import { restoreModel } from '../../../../main/engine/run/open-run';
import { probeBatch, randomizeBatchNorms, tinyConfig } from '../../../support/tiny-models';
import { makeRun } from '../../../support/run-fixture';

const config = tinyConfig();
let root: string;
let model: tf.LayersModel;
let exportDir: string;
const x = probeBatch(2, config.inputShape, 21);
const predict = (m: tf.LayersModel) => tf.tidy(() => Array.from((m.predict(tf.tensor4d(x, [2, ...config.inputShape])) as tf.Tensor).dataSync()));

beforeAll(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'import-tfjs-'));
  model = buildDenseNet(config);
  randomizeBatchNorms(model, 13);
  const runDir = makeRun(root, config, model, { classes: ['ant', 'bee', 'cow'] });
  exportDir = (await exportRun(runDir, { format: 'tfjs', out: path.join(root, 'export') })).dir;
});
afterAll(() => {
  model.dispose();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('import --tfjs model.json', () => {
  it('turns a workbench TF.js export back into a run with the same predictions, classes and normalization', async () => {
    const out = path.join(root, 'back');
    const result = await importRun({ tfjs: path.join(exportDir, 'model.json'), out });
    expect(result.config).toEqual(config);
    const { model: restored, config: run } = await restoreModel(out, 'latest');
    expect(run.dataset.classes).toEqual(['ant', 'bee', 'cow']);
    expect(run.normalization?.mean).toHaveLength(3);
    expect(predict(restored)).toEqual(predict(model));
    restored.dispose();
  });

  it('replaces the classifier for another class count', async () => {
    const result = await importRun({ tfjs: exportDir, classes: 5, out: path.join(root, 'five') });
    expect(result.headReplaced).toBe(true);
    expect(result.config.classes).toBe(5);
  });

  it('needs --variant for a bare model.json, and checks the weights fit it', async () => {
    const bare = path.join(root, 'bare');
    await saveLayersModel(model, bare);
    await expect(importRun({ tfjs: path.join(bare, 'model.json'), out: path.join(root, 'b1') })).rejects.toThrow(/has no preprocessing.json beside it, so its architecture is unknown; give --variant/);
    await expect(importRun({ tfjs: path.join(bare, 'model.json'), variant: 'densenet-bc-40-12', out: path.join(root, 'b2') })).rejects.toThrow(/model.json does not fit variant densenet-bc-40-12\. The weights do not fit this model: conv1_conv\/kernel has shape \[3, 3, 3, 8\], the model needs \[3, 3, 3, 24\]/);
  });
});
