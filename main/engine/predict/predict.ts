import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { WorkbenchError } from '../../../shared/errors';
import type { BackendName } from '../../../shared/training';
import { ensureBackend } from '../backend';
import { applyNormalization, decodeImage } from '../data';
import { ImageProblem } from '../data/decode';
import { restoreModel } from '../run/open-run';
import { CONFIG_FILE } from '../runs/run-store';
import { PREPROCESSING_FILE, readPreprocessing } from '../export/preprocessing';
import { loadLayersModelFromFiles } from '../export/tfjs-files';
import { parseSafetensors } from '../import/safetensors';
import { mapTorchvisionWeights } from '../import/torchvision-weights';
import { buildDenseNet } from '../model/densenet';
import { setModelWeights } from '../train/model-weights';

/**
 * `predict`: classify image files with a run (its best checkpoint) or an export folder (TF.js,
 * ONNX or a torchvision state dict, read through its preprocessing.json). Images go through the data module's decoder and
 * normalization, so prediction preprocesses exactly as training did.
 */
export interface Predictor {
  source: string;
  kind: 'run' | 'tfjs-layers' | 'onnx' | 'torchvision';
  classes: string[];
  inputShape: [number, number, number];
  normalization: { mean: number[]; std: number[] } | null;
  /** Logits for `n` preprocessed NHWC images. */
  logits(x: Float32Array, n: number): Promise<Float32Array>;
  dispose(): void;
}

export interface Prediction {
  file: string;
  top: { index: number; label: string; probability: number }[];
  logits: number[];
}

export interface PredictorOptions {
  /** The backend for runs and TF.js exports when none runs yet; default auto. */
  backend?: BackendName;
  threads?: number;
}

export async function openPredictor(target: string, checkpoint = 'best', options: PredictorOptions = {}): Promise<Predictor> {
  if (!fs.existsSync(target) || !fs.statSync(target).isDirectory()) {
    throw new WorkbenchError(`${target} is not a folder; predict takes a run folder or an export folder (with ${PREPROCESSING_FILE}).`);
  }
  if (fs.existsSync(path.join(target, PREPROCESSING_FILE))) return openExport(target, options);
  if (fs.existsSync(path.join(target, CONFIG_FILE))) {
    const { model, config } = await restoreModel(target, checkpoint, options);
    return {
      source: target,
      kind: 'run',
      classes: config.dataset.classes,
      inputShape: config.model.inputShape,
      normalization: config.normalization,
      logits: async (x, n) => tfjsLogits(model, x, n, config.model.inputShape),
      dispose: () => model.dispose(),
    };
  }
  throw new WorkbenchError(`${target} is neither a run (no ${CONFIG_FILE}) nor an export (no ${PREPROCESSING_FILE}).`);
}

async function openExport(dir: string, options: PredictorOptions): Promise<Predictor> {
  const pre = readPreprocessing(dir);
  const inputShape: [number, number, number] = [pre.input.height, pre.input.width, pre.input.channels];
  const base = { source: dir, classes: pre.classes, inputShape, normalization: pre.normalization };
  const file = path.join(dir, pre.model.file);
  if (pre.model.kind === 'tfjs-layers') {
    await ensureBackend(options.backend ?? 'auto', options.threads !== undefined ? { threads: options.threads } : {});
    const model = await loadLayersModelFromFiles(file);
    return { ...base, kind: 'tfjs-layers', logits: async (x, n) => tfjsLogits(model, x, n, inputShape), dispose: () => model.dispose() };
  }
  if (pre.model.kind === 'torchvision') {
    // The state dict goes back into the workbench's own model, through the import's name map.
    await ensureBackend(options.backend ?? 'auto', options.threads !== undefined ? { threads: options.threads } : {});
    const { tensors } = parseSafetensors(readBytes(file), file);
    const model = buildDenseNet(pre.config);
    try {
      setModelWeights(model, mapTorchvisionWeights(tensors, pre.config, model, file).weights);
    } catch (err) {
      model.dispose();
      throw err;
    }
    return { ...base, kind: 'torchvision', logits: async (x, n) => tfjsLogits(model, x, n, inputShape), dispose: () => model.dispose() };
  }
  let ort: typeof import('onnxruntime-node');
  try {
    ort = await import('onnxruntime-node');
  } catch {
    throw new WorkbenchError(`Predicting with ${file} needs the onnxruntime-node package, which is not installed; predict with the run or a TF.js export instead.`);
  }
  const session = await ort.InferenceSession.create(file);
  const [h, w, c] = inputShape;
  return {
    ...base,
    kind: 'onnx',
    async logits(x, n) {
      const data = pre.input.layout === 'NCHW' ? nhwcToNchw(x, n, h, w, c) : x;
      const dims = pre.input.layout === 'NCHW' ? [n, c, h, w] : [n, h, w, c];
      const out = await session.run({ [pre.model.inputName]: new ort.Tensor('float32', data, dims) });
      return Float32Array.from(out[pre.model.outputNames[0]].data as Float32Array);
    },
    dispose: () => void session.release(),
  };
}

function tfjsLogits(model: tf.LayersModel, x: Float32Array, n: number, [h, w, c]: [number, number, number]): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor4d(x, [n, h, w, c])) as tf.Tensor).dataSync() as Float32Array).slice();
}

function nhwcToNchw(x: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < h; y++)
      for (let i = 0; i < w; i++)
        for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + i] = x[((b * h + y) * w + i) * c + k];
  return out;
}

/** Decodes, scales to [0, 1] and normalizes images as the data module does for training. */
export async function preprocessImages(files: string[], p: Pick<Predictor, 'inputShape' | 'normalization'>): Promise<Float32Array> {
  const size = p.inputShape[0] * p.inputShape[1] * p.inputShape[2];
  const x = new Float32Array(files.length * size);
  for (const [i, file] of files.entries()) {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(file);
    } catch {
      throw new WorkbenchError(`Image ${file} cannot be read (missing or not a file).`);
    }
    let pixels: Uint8Array;
    try {
      pixels = await decodeImage(buf, p.inputShape);
    } catch (err) {
      if (err instanceof ImageProblem) throw new WorkbenchError(`Image ${file} ${err.message}.`);
      throw err;
    }
    for (let j = 0; j < size; j++) x[i * size + j] = pixels[j] / 255;
  }
  return p.normalization ? applyNormalization(x, p.normalization) : x;
}

export async function predictFiles(predictor: Predictor, files: string[], topK = 5): Promise<Prediction[]> {
  if (files.length === 0) throw new WorkbenchError('Give at least one image file to predict.');
  if (!Number.isInteger(topK) || topK < 1) throw new WorkbenchError(`--top must be a whole number ≥ 1; got ${topK}.`);
  const k = Math.min(topK, predictor.classes.length);
  const results: Prediction[] = [];
  const batch = 32;
  for (let start = 0; start < files.length; start += batch) {
    const chunk = files.slice(start, start + batch);
    const x = await preprocessImages(chunk, predictor);
    const logits = await predictor.logits(x, chunk.length);
    const classes = predictor.classes.length;
    chunk.forEach((file, i) => {
      const row = Array.from(logits.subarray(i * classes, (i + 1) * classes));
      const max = Math.max(...row);
      const exps = row.map((v) => Math.exp(v - max));
      const sum = exps.reduce((a, b) => a + b, 0);
      const top = exps
        .map((e, index) => ({ index, label: predictor.classes[index], probability: e / sum }))
        .sort((a, b) => b.probability - a.probability)
        .slice(0, k);
      results.push({ file, top, logits: row });
    });
  }
  return results;
}

function readBytes(file: string): Uint8Array {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new WorkbenchError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (err as Error).message}.`);
  }
}
