/**
 * Validation of a DenseNetConfig. Returns every problem at once (a form shows them all, a CLI
 * prints them all), each naming the field, the value found and what is accepted.
 * Per-field checks are a zod schema; the checks that need several fields at once (is the input
 * big enough for the downsamplings, does a transition keep at least one channel) run after it,
 * on whichever of the fields they need are valid.
 */
import { z } from 'zod';
import type { ConfigProblem, DenseNetConfig } from './config';
import { WorkbenchError } from './errors';
import { blockChannels, blockSizes, minInputSize, transitionChannels } from './architecture/shapes';

/** Renders a value for an error sentence: strings quoted, missing values named as such. */
export function formatValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** One error message for every way a field can be wrong, so the sentence always says what is accepted. */
const says = (accepted: string) => ({ error: (issue: { input?: unknown }) => `${accepted}; got ${formatValue(issue.input)}.` });

const wholeAtLeast = (what: string, min: number) =>
  z.number(says(`${what} must be a whole number ≥ ${min}`)).int(says(`${what} must be a whole number ≥ ${min}`)).min(min, says(`${what} must be a whole number ≥ ${min}`));

const blocksMessage = 'Blocks must be a non-empty list of layer counts, one per dense block (e.g. [6, 12, 24, 16])';
const inputMessage = 'Input shape must be [height, width, channels], e.g. [28, 28, 1] or [224, 224, 3]';

const ConfigFieldsSchema = z.object(
  {
    variant: z.string(says('Variant must be a preset name or "custom"')).min(1, says('Variant must be a preset name or "custom"')),
    blocks: z.array(wholeAtLeast('Each dense block’s layer count', 1), says(blocksMessage)).min(1, says(blocksMessage)),
    growthRate: wholeAtLeast('Growth rate k', 1),
    bottleneck: z.boolean(says('Bottleneck (B) must be true or false')),
    compression: z
      .number(says('Compression θ must be in (0, 1]'))
      .gt(0, says('Compression θ must be in (0, 1]'))
      .max(1, says('Compression θ must be in (0, 1]')),
    initFeatures: wholeAtLeast('Initial features (channels out of the stem)', 1),
    stem: z.enum(['imagenet', 'cifar'], says('Stem must be "imagenet" (7×7/2 conv + 3×3/2 max-pool) or "cifar" (one 3×3 conv)')),
    dropRate: z.number(says('Drop rate must be in [0, 1)')).min(0, says('Drop rate must be in [0, 1)')).lt(1, says('Drop rate must be in [0, 1)')),
    inputShape: z.tuple(
      [
        wholeAtLeast('Input height', 1),
        wholeAtLeast('Input width', 1),
        z.union([z.literal(1), z.literal(3)], says('Input channels must be 1 (grayscale) or 3 (RGB)')),
      ],
      says(inputMessage),
    ),
    classes: wholeAtLeast('Classes', 2),
  },
  says('A DenseNet config must be an object with variant, blocks, growthRate, bottleneck, compression, initFeatures, stem, dropRate, inputShape and classes'),
);

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
  for (const [key, schema] of Object.entries(ConfigFieldsSchema.shape)) {
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

/** Every problem with a config, or [] when it is valid. Never throws. */
export function validateConfig(c: unknown): ConfigProblem[] {
  const parsed = ConfigFieldsSchema.safeParse(c);
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
