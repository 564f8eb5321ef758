/**
 * Validation of a DenseNetConfig. Returns every problem at once (a form shows them all, a CLI
 * prints them all), each naming the field, the value found and what is accepted.
 * Per-field checks are a zod schema; the checks that need several fields at once (is the input
 * big enough for the downsamplings, does a transition keep at least one channel) run after it,
 * on whichever of the fields they need are valid.
 */
import { DenseNetConfigSchema, type ConfigProblem, type DenseNetConfig } from './config';
import { WorkbenchError } from './errors';
import { blockChannels, blockSizes, minInputSize, transitionChannels } from './architecture/shapes';

function fieldName(path: readonly PropertyKey[]): string {
  return path.reduce<string>((name, key) => (typeof key === 'number' ? `${name}[${key}]` : name ? `${name}.${String(key)}` : String(key)), '');
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** The fields of `c` that are valid on their own, so cross-field checks run even when others are wrong. */
function validFields(c: unknown): Partial<DenseNetConfig> {
  const fields: Record<string, unknown> = {};
  if (c === null || typeof c !== 'object') return fields;
  for (const [key, schema] of Object.entries(DenseNetConfigSchema.shape)) {
    const parsed = schema.safeParse((c as Record<string, unknown>)[key]);
    if (parsed.success) fields[key] = parsed.data;
  }
  return fields as Partial<DenseNetConfig>;
}

/** Checks that need several valid fields: downsampling and transition widths. */
function crossFieldProblems(config: Partial<DenseNetConfig>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { inputShape, stem, blocks } = config;
  if (inputShape && stem && blocks) {
    const blockCount = blocks.length;
    const min = minInputSize(stem, blockCount);
    const halvings = (stem === 'imagenet' ? 2 : 0) + blockCount - 1;
    (['height', 'width'] as const).forEach((axis, i) => {
      const size = inputShape[i];
      if (blockSizes(size, stem, blockCount).some((s) => s < 1)) {
        problems.push({
          field: `inputShape[${i}]`,
          value: size,
          message:
            `Input ${axis} ${size} is too small for the ${stem} stem and ${blockCount} dense block${blockCount === 1 ? '' : 's'}, ` +
            `which halve it ${halvings} time${halvings === 1 ? '' : 's'}; it must be at least ${min}.`,
        });
      }
    });
  }
  const { growthRate, compression, initFeatures } = config;
  if (blocks && growthRate !== undefined && compression !== undefined && initFeatures !== undefined) {
    const { channelsOut } = blockChannels({ blocks, growthRate, compression, initFeatures });
    channelsOut.slice(0, -1).forEach((m, b) => {
      const out = transitionChannels(m, compression);
      if (out < 1) {
        problems.push({
          field: 'compression',
          value: compression,
          message: `Compression θ = ${compression} leaves transition ${b + 1} with ⌊${compression} × ${m}⌋ = ${out} channels; θ must be at least ${(1 / m).toPrecision(3)} for its ${m} input channels.`,
        });
      }
    });
  }
  return problems;
}

/**
 * Configs that came out of `ValidDenseNetConfigSchema` (frozen, so they stay valid): checking them
 * again is free, so a config is validated once where it arrives (an API request, a trainer command,
 * a run's config.json) however many builders it then passes through.
 */
const validated = new WeakSet<object>();

/** Every problem with a config, or [] when it is valid. Never throws. */
export function validateConfig(c: unknown): ConfigProblem[] {
  if (typeof c === 'object' && c !== null && validated.has(c)) return [];
  const parsed = DenseNetConfigSchema.safeParse(c);
  const fieldProblems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({ field: fieldName(issue.path), value: valueAt(c, issue.path), message: issue.message }));
  return [...fieldProblems, ...crossFieldProblems(parsed.success ? (parsed.data as DenseNetConfig) : validFields(c))];
}

/** The config, typed, or a user WorkbenchError listing every problem in one line. */
export function assertValidConfig(c: unknown): DenseNetConfig {
  const problems = validateConfig(c);
  if (problems.length > 0) {
    // One line, so a CLI prints it as its single error line; each message already names its field.
    const head = problems.length === 1 ? 'Invalid DenseNet config:' : `Invalid DenseNet config (${problems.length} problems):`;
    throw new WorkbenchError([head, ...problems.map((p) => p.message)].join(' '));
  }
  return c as DenseNetConfig;
}

/** Turns "inputShape[0]" back into a zod issue path. */
function issuePath(field: string): (string | number)[] {
  return field.split(/[.[\]]/).filter((k) => k !== '').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
}

/**
 * A DenseNetConfig checked field by field and across fields: the schema for configs arriving from
 * outside. What it returns is frozen and remembered as valid (see `validated`).
 */
export const ValidDenseNetConfigSchema = DenseNetConfigSchema.superRefine((config, ctx) => {
  const problems = crossFieldProblems(config);
  for (const p of problems) ctx.addIssue({ code: 'custom', path: issuePath(p.field), message: p.message, input: p.value });
  if (problems.length === 0) {
    Object.freeze(config.blocks);
    Object.freeze(config.inputShape);
    validated.add(Object.freeze(config));
  }
});
