/**
 * Validation of TrainSettings as sentences, one per bad field, so the New-run form can check the
 * training fields live as it checks the model fields (./validation.ts) and never sends a request
 * the host would refuse. The accepted ranges are read from TrainSettingsSchema itself (its public
 * minValue/maxValue/isInt, and a parse of each bound to learn whether it is included), so the
 * sentences cannot drift from what the host enforces.
 */
import { z } from 'zod';
import type { ConfigProblem } from './config';
import { FineTuneSchema, TrainSettingsSchema } from './training';
import { formatValue } from './config';

/** The form's label of each field, for the sentences. */
export const SETTING_LABELS: Record<string, string> = {
  epochs: 'Epochs',
  batchSize: 'Batch size',
  optimizer: 'Optimizer',
  lr: 'Learning rate',
  momentum: 'Momentum',
  nesterov: 'Nesterov',
  weightDecay: 'Weight decay',
  schedule: 'Schedule',
  milestones: 'Milestones (fractions of the epochs)',
  earlyStopping: 'Early stopping',
  augment: 'Augmentation',
  gamma: 'The lr factor γ',
  stepEpochs: 'Epochs per lr step',
  warmupEpochs: 'Warm-up epochs',
  labelSmoothing: 'Label smoothing',
  seed: 'Seed',
  valFraction: 'Validation fraction',
  backend: 'Backend',
  device: 'Device',
  precision: 'Precision',
  channelsLast: 'Channels-last memory format',
  syncBatchNorm: 'Synchronized batch norm',
  checkpointEvery: 'Checkpoint every N steps',
  keepCheckpoints: 'Checkpoints kept',
  statsEvery: 'Layer stats every N steps',
  gradientsEvery: 'Gradients every N steps',
  normalize: 'Normalize',
  memoryEfficient: 'Memory-efficient dense layers',
  microBatch: 'Micro-batch',
  fineTune: 'Fine-tuning',
};

/** The labels of the fine-tune recipe's fields (TrainSettings.fineTune). */
export const FINE_TUNE_LABELS: Record<string, string> = {
  headEpochs: 'Classifier-only epochs',
  lrFactor: 'The learning-rate factor after unfreezing',
  freezeBatchNorm: 'Keeping the batch-norm statistics',
};

/** Bounds this large mean "no upper bound" (zod's int() caps at MAX_SAFE_INTEGER). */
const UNBOUNDED = 1e15;

const grouped = (n: number) => (Number.isInteger(n) && Math.abs(n) >= 10_000 ? n.toLocaleString('en-US') : String(n));

/** `a whole number from 1 to 100,000`, `in (0, 10]`, `≥ 0`: what a number schema accepts. */
export function describeNumber(schema: z.ZodNumber): string {
  const lo = schema.minValue;
  const hi = schema.maxValue;
  const hasLo = lo !== null && Number.isFinite(lo) && lo > -UNBOUNDED;
  const hasHi = hi !== null && Number.isFinite(hi) && hi < UNBOUNDED;
  const loIn = hasLo && schema.safeParse(lo).success;
  const hiIn = hasHi && schema.safeParse(hi).success;
  if (schema.isInt) {
    const first = hasLo ? (loIn ? lo : lo + 1) : null;
    const last = hasHi ? (hiIn ? hi : hi - 1) : null;
    if (first !== null && last !== null) return `a whole number from ${grouped(first)} to ${grouped(last)}`;
    if (first !== null) return `a whole number ≥ ${grouped(first)}`;
    if (last !== null) return `a whole number ≤ ${grouped(last)}`;
    return 'a whole number';
  }
  if (hasLo && hasHi) return `in ${loIn ? '[' : '('}${grouped(lo)}, ${grouped(hi)}${hiIn ? ']' : ')'}`;
  if (hasLo) return loIn ? `≥ ${grouped(lo)}` : `> ${grouped(lo)}`;
  if (hasHi) return hiIn ? `≤ ${grouped(hi)}` : `< ${grouped(hi)}`;
  return 'a number';
}

/** Unwraps .default()/.optional()/.nullable() to the schema that checks the value. */
function inner(schema: z.ZodType): z.ZodType {
  let s = schema as z.ZodType & { unwrap?: () => z.ZodType };
  while (typeof s.unwrap === 'function' && !(s instanceof z.ZodArray)) s = s.unwrap() as typeof s;
  return s;
}

/** What a field's schema accepts, as the end of a sentence starting `<Label> must be `. */
function accepted(schema: z.ZodType): string {
  const s = inner(schema);
  if (s instanceof z.ZodNumber) {
    const range = describeNumber(s);
    return range.startsWith('a ') ? range : `a number ${range}`;
  }
  if (s instanceof z.ZodEnum) return `one of ${s.options.map((o) => String(o)).join(', ')}`;
  if (s instanceof z.ZodBoolean) return 'on or off (true or false)';
  if (s instanceof z.ZodArray && inner(s.element as z.ZodType) instanceof z.ZodNumber) return `a list of numbers, each ${describeNumber(inner(s.element as z.ZodType) as z.ZodNumber)}`;
  return 'set as the form offers';
}

/** `got -1`, `got nothing` (an empty number field reads as NaN). */
function got(value: unknown): string {
  return typeof value === 'number' && Number.isNaN(value) ? 'nothing' : formatValue(value);
}

/**
 * Every problem with a TrainSettings (partial settings are completed with the schema's defaults,
 * as the host does). The field is the top-level key, so a form marks the right input.
 */
export function validateSettings(settings: unknown): ConfigProblem[] {
  const parsed = TrainSettingsSchema.safeParse(settings);
  if (parsed.success) {
    const ft = parsed.data.fineTune;
    if (ft && ft.headEpochs > parsed.data.epochs) {
      return [{ field: 'fineTune.headEpochs', value: ft.headEpochs, message: `${FINE_TUNE_LABELS.headEpochs} must be at most the ${parsed.data.epochs} epochs of the run; got ${ft.headEpochs}.` }];
    }
    return [];
  }
  const shape = TrainSettingsSchema.shape as Record<string, z.ZodType>;
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  const record = (typeof settings === 'object' && settings !== null ? settings : {}) as Record<string, unknown>;
  for (const issue of parsed.error.issues) {
    const field = String(issue.path[0] ?? '');
    if (seen.has(field)) continue;
    seen.add(field);
    const schema = shape[field];
    const label = SETTING_LABELS[field] ?? field;
    if (!schema) {
      problems.push({ field: field || '(settings)', value: settings, message: 'Training settings must be an object of the fields the form offers.' });
      continue;
    }
    if (field === 'fineTune' && issue.path.length > 1) {
      const sub = String(issue.path[1]);
      const subSchema = (FineTuneSchema.shape as Record<string, z.ZodType>)[sub];
      const value = (record.fineTune as Record<string, unknown> | undefined)?.[sub];
      if (subSchema) {
        problems.push({ field: `fineTune.${sub}`, value, message: `${FINE_TUNE_LABELS[sub] ?? sub} must be ${accepted(subSchema)}; got ${got(value)}.` });
        continue;
      }
    }
    if (field === 'earlyStopping' || field === 'augment' || field === 'fineTune') {
      const shapeOf = field === 'augment' ? 'two switches, {padCrop, flip}'
        : field === 'fineTune' ? 'off (null), or {headEpochs, lrFactor, freezeBatchNorm}'
        : 'off (null), or {metric: "valLoss" or "valAccuracy", patience: a whole number ≥ 1, minDelta ≥ 0}';
      problems.push({ field, value: record[field], message: `${label} must be ${shapeOf}; got ${formatValue(record[field])}.` });
      continue;
    }
    const value = record[field];
    problems.push({ field, value, message: `${label} must be ${accepted(schema)}; got ${got(value)}.` });
  }
  return problems;
}
