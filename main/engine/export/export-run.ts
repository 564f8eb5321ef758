import * as path from 'node:path';
import { WorkbenchError } from '../../../shared/errors';
import { restoreModel } from '../run/open-run';
import { readMetrics, readRunSummary } from '../runs/run-store';
import { writeOnnx } from './onnx/export-onnx';
import type { OnnxInputLayout } from './onnx/convert';
import type * as tf from '@tensorflow/tfjs';
import type { RunConfigFile } from '../runs/run-files';
import { encodeSafetensors } from '../import/safetensors';
import { prepareOutputDir, writeOutputFile } from './output-files';
import { torchvisionSnippet, SNIPPET_FILE } from './torchvision-snippet';
import { torchvisionStateDict } from './torchvision-state-dict';
import { buildPreprocessing, writePreprocessing, type Preprocessing } from './preprocessing';
import { saveLayersModel } from './tfjs-files';

export type ExportFormat = 'tfjs' | 'onnx' | 'torchvision';

const FORMATS: ExportFormat[] = ['tfjs', 'onnx', 'torchvision'];

export interface ExportRunOptions {
  format: ExportFormat;
  /** Output folder; default `<run>/exports/<format>`. */
  out?: string;
  foldBn?: boolean;
  /** `best` (default), `latest` or a checkpoint name like `step-000000100`. */
  checkpoint?: string;
  /** ONNX input layout; TF.js is always NHWC, torchvision NCHW. */
  layout?: OnnxInputLayout;
}

export interface ExportResult {
  dir: string;
  files: string[];
  preprocessing: Preprocessing;
}

/**
 * Exports a run's checkpoint as TF.js Layers or ONNX into one folder, with preprocessing.json beside
 * the model. The model is rebuilt from config.json and the checkpoint (the Training engine's
 * restoreModel), so the export is exactly what `eval` measures.
 */
export async function exportRun(runDir: string, options: ExportRunOptions): Promise<ExportResult> {
  if (!FORMATS.includes(options.format)) {
    throw new WorkbenchError(`Export format must be tfjs, onnx or torchvision; got ${JSON.stringify(options.format)}.`);
  }
  if (options.foldBn && options.format !== 'onnx') {
    throw new WorkbenchError('--fold-bn applies to ONNX exports only; TF.js keeps its BatchNormalization layers so the model can be trained further.');
  }
  const dir = prepareOutputDir(options.out ?? path.join(runDir, 'exports', options.format));
  // Export only reads weights: where no backend runs yet, the pure-JS one is enough and always present.
  const { model, config, manifest } = await restoreModel(runDir, options.checkpoint ?? 'best', { backend: 'cpu' });
  try {
    const files: string[] = [];
    let layout: 'NHWC' | 'NCHW' = 'NHWC';
    if (options.format === 'tfjs') {
      files.push(await saveLayersModel(model, dir), path.join(dir, 'weights.bin'));
    } else if (options.format === 'torchvision') {
      layout = 'NCHW';
      files.push(...writeTorchvision(model, config, dir));
    } else {
      layout = options.layout ?? 'NCHW';
      const file = path.join(dir, 'model.onnx');
      writeOnnx(model, file, {
        foldBn: options.foldBn,
        inputLayout: layout,
        producerVersion: config.versions['densenet-workbench'] ?? '0',
        metadata: { classes: JSON.stringify(config.dataset.classes), variant: config.model.variant, run: config.id },
      });
      files.push(file);
    }
    const summary = readRunSummary(runDir);
    const pre = buildPreprocessing({
      kind: options.format === 'tfjs' ? 'tfjs-layers' : options.format,
      layout,
      foldedBatchNorm: options.foldBn ?? false,
      config: config.model,
      classes: config.dataset.classes,
      normalization: config.normalization,
      validationAccuracy: summary?.last.valAccuracy ?? lastValAccuracy(runDir) ?? manifest.metrics.valAccuracy,
      bestValidationAccuracy: summary?.best?.valAccuracy ?? manifest.best?.valAccuracy ?? null,
      source: { runId: config.id, checkpoint: manifest.name, step: manifest.step, checkpointValidationAccuracy: manifest.metrics.valAccuracy },
      tfjsNames: { input: model.inputLayers[0].name, output: model.outputLayers[0].name },
    });
    files.push(writePreprocessing(dir, pre));
    return { dir, files, preprocessing: pre };
  } finally {
    model.dispose();
  }
}

/** model.safetensors (a torchvision state dict) and load_densenet.py, which builds the model and loads it. */
function writeTorchvision(model: tf.LayersModel, config: RunConfigFile, dir: string): string[] {
  const weights = path.join(dir, 'model.safetensors');
  const metadata = { format: 'pt', variant: config.model.variant, run: config.id, producer: `densenet-workbench ${config.versions['densenet-workbench'] ?? ''}`.trim() };
  writeOutputFile(weights, encodeSafetensors(torchvisionStateDict(model, config.model), metadata));
  const snippet = path.join(dir, SNIPPET_FILE);
  writeOutputFile(snippet, torchvisionSnippet(config.model, config.dataset.classes));
  return [weights, snippet];
}

/** The validation accuracy of the last epoch event, for a run without summary.json (still going, or killed). */
function lastValAccuracy(runDir: string): number | null {
  const { events } = readMetrics(runDir);
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e.type === 'epoch' && e.valAccuracy !== null) return e.valAccuracy;
  }
  return null;
}
