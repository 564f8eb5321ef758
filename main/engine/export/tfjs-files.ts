import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { WorkbenchError } from '../../../shared/errors';
import { prepareOutputDir, writeOutputFile } from './output-files';

/**
 * TF.js Layers format on disk without tfjs-node: `model.json` (topology + weights manifest) and one
 * `weights.bin` shard. This is the layout `tf.loadLayersModel` reads over HTTP and the TF.js
 * converter turns into Keras (`tensorflowjs_converter --input_format=tfjs_layers_model
 * --output_format=keras model.json out.h5`), since the model holds standard layers only.
 */
export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

/** A tf.io.IOHandler whose save() writes model.json + weights.bin into `dir`. */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new WorkbenchError('Only TF.js Layers models (JSON topology) can be saved to model.json; got a binary graph model.', { user: false });
      }
      const out = prepareOutputDir(dir);
      const weights = artifacts.weightData ? new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData)) : new Uint8Array(0);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology ?? {},
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version['tfjs-layers']}`,
        convertedBy: null,
        weightsManifest: [{ paths: [WEIGHTS_BIN], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      writeOutputFile(path.join(out, WEIGHTS_BIN), weights);
      writeOutputFile(path.join(out, MODEL_JSON), JSON.stringify(modelJson));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
          weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
          weightDataBytes: weights.byteLength,
        },
      };
    },
  };
}

/** Saves `model` as model.json + weights.bin in `dir`; returns the model.json path. */
export async function saveLayersModel(model: tf.LayersModel, dir: string): Promise<string> {
  await model.save(fileSaveHandler(dir));
  return path.join(path.resolve(dir), MODEL_JSON);
}

/** A tf.io.IOHandler whose load() reads a model.json and the shards its manifest names. */
export function fileLoadHandler(modelJsonPath: string): tf.io.IOHandler {
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      const modelJson = readModelJson(modelJsonPath);
      const base = path.dirname(modelJsonPath);
      return tf.io.getModelArtifactsForJSON(modelJson, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const shards: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const shard of group.paths) shards.push(readShard(base, shard, modelJsonPath));
        }
        return [specs, tf.io.CompositeArrayBuffer.join(shards)];
      });
    },
  };
}

/** Loads a Layers model from a model.json path or a folder holding one. */
export async function loadLayersModelFromFiles(target: string): Promise<tf.LayersModel> {
  const file = fs.existsSync(target) && fs.statSync(target).isDirectory() ? path.join(target, MODEL_JSON) : target;
  try {
    return await tf.loadLayersModel(fileLoadHandler(file));
  } catch (err) {
    if (err instanceof WorkbenchError) throw err;
    throw new WorkbenchError(`${file} is not a loadable TF.js Layers model: ${(err as Error).message}`, { cause: err });
  }
}

function readModelJson(file: string): tf.io.ModelJSON {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new WorkbenchError(code === 'ENOENT' ? `${file} does not exist; expected a TF.js model.json.` : `Cannot read ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WorkbenchError(`${file} is not valid JSON; expected a TF.js model.json.`);
  }
  const obj = json as Partial<tf.io.ModelJSON> | null;
  if (!obj || typeof obj !== 'object' || !obj.modelTopology || !Array.isArray(obj.weightsManifest)) {
    throw new WorkbenchError(`${file} is not a TF.js model.json: it needs "modelTopology" and a "weightsManifest" list.`);
  }
  if (obj.format !== undefined && obj.format !== 'layers-model') {
    throw new WorkbenchError(`${file} is a TF.js "${obj.format}"; only Layers models ("layers-model") can be loaded for training.`);
  }
  return obj as tf.io.ModelJSON;
}

function readShard(base: string, shard: string, modelJsonPath: string): ArrayBuffer {
  // A manifest names shards relative to model.json; refusing absolute paths and `..` keeps a
  // downloaded model.json from reading files elsewhere on the machine.
  if (path.isAbsolute(shard) || shard.split(/[\\/]/).includes('..')) {
    throw new WorkbenchError(`${modelJsonPath} names weight file "${shard}" outside its folder; shards must sit beside model.json.`);
  }
  try {
    const buf = fs.readFileSync(path.join(base, shard));
    return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  } catch {
    throw new WorkbenchError(`Weight file ${path.join(base, shard)} named by ${modelJsonPath} cannot be read.`);
  }
}
