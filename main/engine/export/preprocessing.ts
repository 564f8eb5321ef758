import { z } from 'zod';
import * as fs from 'node:fs';
import { writeOutputFile } from './output-files';
import * as path from 'node:path';
import { ValidDenseNetConfigSchema } from '../../../shared/validation';
import { WorkbenchError } from '../../../shared/errors';
import type { DenseNetConfig } from '../../../shared/config';

/**
 * preprocessing.json: everything needed to feed an exported model without guessing. It sits beside
 * every export (model.json or model.onnx), and `predict` reads it to preprocess exactly as training did.
 */
export const PREPROCESSING_FILE = 'preprocessing.json';

export const PreprocessingSchema = z.object({
  format: z.literal(1),
  model: z.object({
    /** `tfjs-layers`: model.json + weights.bin. `onnx`: model.onnx. `torchvision`: a state dict in model.safetensors + load_densenet.py. */
    kind: z.enum(['tfjs-layers', 'onnx', 'torchvision']),
    file: z.string(),
    inputName: z.string(),
    /** Output names; the first gives logits. */
    outputNames: z.array(z.string()).min(1),
    outputs: z.string(),
    foldedBatchNorm: z.boolean().optional(),
  }),
  input: z.object({
    height: z.number().int().min(1),
    width: z.number().int().min(1),
    channels: z.union([z.literal(1), z.literal(3)]),
    colorMode: z.enum(['grayscale', 'rgb']),
    /** NHWC ([batch, height, width, channels]) or NCHW ([batch, channels, height, width]). */
    layout: z.enum(['NHWC', 'NCHW']),
    dtype: z.literal('float32'),
    /** How an image becomes the input, in order. */
    resize: z.literal('fill'),
    alpha: z.literal('dropped'),
    /** Range of the pixel values after scaling and before normalization. */
    valueRange: z.tuple([z.number(), z.number()]),
    scale: z.number(),
  }),
  /** Per-channel mean and std applied after scaling: x' = (x − mean[c]) / std[c]. Null: none. */
  normalization: z.object({ mean: z.array(z.number()), std: z.array(z.number()) }).nullable(),
  /** Class names in output order. */
  classes: z.array(z.string()).min(2),
  variant: z.string(),
  config: ValidDenseNetConfigSchema,
  /** The run's final validation accuracy in [0, 1], null when unknown (no validation split, imported). */
  validationAccuracy: z.number().nullable(),
  /** Best validation accuracy seen and the checkpoint exported. */
  bestValidationAccuracy: z.number().nullable(),
  source: z.object({
    runId: z.string().nullable(),
    checkpoint: z.string().nullable(),
    step: z.number().int().nullable(),
    /** Validation accuracy of the exported checkpoint itself. */
    checkpointValidationAccuracy: z.number().nullable(),
  }),
  created: z.string(),
  usage: z.string(),
});
export type Preprocessing = z.infer<typeof PreprocessingSchema>;

export interface PreprocessingInput {
  kind: Preprocessing['model']['kind'];
  layout: 'NHWC' | 'NCHW';
  foldedBatchNorm?: boolean;
  config: DenseNetConfig;
  classes: string[];
  normalization: { mean: number[]; std: number[] } | null;
  validationAccuracy: number | null;
  bestValidationAccuracy: number | null;
  source: Preprocessing['source'];
  /** TF.js names of the input layer and output layer (default: the DenseNet builder's). */
  tfjsNames?: { input: string; output: string };
}

export function buildPreprocessing(input: PreprocessingInput): Preprocessing {
  const [height, width, channels] = input.config.inputShape;
  if (input.classes.length !== input.config.classes) {
    throw new WorkbenchError(`The run names ${input.classes.length} classes but its model has ${input.config.classes} outputs.`);
  }
  if (input.normalization && (input.normalization.mean.length !== channels || input.normalization.std.length !== channels)) {
    throw new WorkbenchError(`The run's normalization has ${input.normalization.mean.length} means and ${input.normalization.std.length} stds; the model takes ${channels} channels.`);
  }
  const onnx = input.kind === 'onnx';
  return PreprocessingSchema.parse({
    format: 1,
    model: { ...MODEL_FILES[input.kind](input), ...(onnx ? { foldedBatchNorm: input.foldedBatchNorm ?? false } : {}) },
    input: {
      height,
      width,
      channels,
      colorMode: channels === 1 ? 'grayscale' : 'rgb',
      layout: input.layout,
      dtype: 'float32',
      resize: 'fill',
      alpha: 'dropped',
      valueRange: [0, 1],
      scale: 1 / 255,
    },
    normalization: input.normalization,
    classes: input.classes,
    variant: input.config.variant,
    config: input.config,
    validationAccuracy: input.validationAccuracy,
    bestValidationAccuracy: input.bestValidationAccuracy,
    source: input.source,
    created: new Date().toISOString(),
    usage: usage(input),
  });
}

/** The model file, its input and output names for each kind of export. */
const MODEL_FILES: Record<Preprocessing['model']['kind'], (input: PreprocessingInput) => Omit<Preprocessing['model'], 'foldedBatchNorm'>> = {
  'tfjs-layers': (input) => ({
    kind: 'tfjs-layers',
    file: 'model.json',
    inputName: input.tfjsNames?.input ?? 'input_1',
    outputNames: [input.tfjsNames?.output ?? 'predictions'],
    outputs: 'One output [batch, classes] of logits (apply softmax for probabilities).',
  }),
  onnx: () => ({
    kind: 'onnx',
    file: 'model.onnx',
    inputName: 'input',
    outputNames: ['logits', 'probabilities'],
    outputs: '`logits` [batch, classes] and `probabilities` = softmax(logits), both float32.',
  }),
  torchvision: () => ({
    kind: 'torchvision',
    file: 'model.safetensors',
    inputName: 'x',
    outputNames: ['logits'],
    outputs: '`model(x)` gives logits [batch, classes] (apply torch.softmax for probabilities).',
  }),
};

function usage(input: PreprocessingInput): string {
  const [h, w, c] = input.config.inputShape;
  const norm = input.normalization ? ', subtract `normalization.mean[c]` and divide by `normalization.std[c]` per channel' : '';
  const steps = `Decode the image, drop alpha, convert to ${c === 1 ? 'grayscale' : 'RGB'}, resize to exactly ${w}×${h} (no aspect-ratio crop), scale 8-bit values by 1/255 into [0, 1]${norm}`;
  if (input.kind === 'torchvision') {
    return `${steps}, arrange as NCHW float32 [batch, ${c}, ${h}, ${w}], then in Python ` +
      '`from load_densenet import load; model = load(); logits = model(x)`: load_densenet.py builds the torchvision DenseNet ' +
      'and loads model.safetensors (torchvision state-dict names). `python3 load_densenet.py image.jpg` prints the top classes.';
  }
  if (input.kind === 'onnx') {
    return `${steps}, arrange as ${input.layout} float32 [batch, ${input.layout === 'NCHW' ? `${c}, ${h}, ${w}` : `${h}, ${w}, ${c}`}], then ` +
      "`const out = await (await ort.InferenceSession.create('model.onnx')).run({ input: new ort.Tensor('float32', data, dims) });` " +
      '`out.probabilities` rows follow `classes`. Python: `onnxruntime.InferenceSession("model.onnx").run(["probabilities"], {"input": x})`.';
  }
  return `${steps}, arrange as NHWC float32 [batch, ${h}, ${w}, ${c}], then ` +
    "`const model = await tf.loadLayersModel('model.json'); const probs = tf.softmax(model.predict(x));` " +
    'rows follow `classes`. Keras: `tensorflowjs_converter --input_format=tfjs_layers_model --output_format=keras model.json model.h5`.';
}

export function writePreprocessing(dir: string, pre: Preprocessing): string {
  const file = path.join(dir, PREPROCESSING_FILE);
  writeOutputFile(file, JSON.stringify(pre, null, 2) + '\n');
  return file;
}

export function readPreprocessing(dir: string): Preprocessing {
  const file = path.join(dir, PREPROCESSING_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new WorkbenchError(missing ? `${dir} has no ${PREPROCESSING_FILE}; expected an export folder made by \`densenet-workbench export\`.` : `${file} is not valid JSON.`);
  }
  const parsed = PreprocessingSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new WorkbenchError(`${file} is malformed at ${issue.path.join('.') || '(root)'}: ${issue.message}.`);
  }
  return parsed.data;
}
