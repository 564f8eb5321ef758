import fc from 'fast-check';
import { z } from 'zod';

/**
 * fast-check arbitraries derived from the protocol's own zod schemas, so the fuzzers cover every
 * message type and follow the protocol as it changes: `validish(schema)` draws values shaped like
 * the schema (through zod's JSON Schema export), and `mutated(schema)` breaks one of them in one
 * place (a value replaced by arbitrary JSON, a key dropped, a wrong type, a huge string).
 *
 * Written here because no maintained zod-4 → fast-check bridge is in the dependencies; it handles
 * the JSON Schema subset zod emits for shared/ (objects, arrays, tuples, enums, consts, bounded
 * numbers and strings, unions). A `pattern` is honoured only for the run-id charset used by shared/api.
 */
type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  items?: JsonSchema;
  prefixItems?: JsonSchema[];
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
};

const RUN_ID_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-'.split('');

function fromJson(s: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const union = s.anyOf ?? s.oneOf;
  if (union) return fc.oneof(...union.map((u) => fromJson(u, depth + 1)));
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'object': {
      const props = s.properties ?? {};
      const required = new Set(s.required ?? []);
      const keys = Object.keys(props);
      if (keys.length === 0) return fc.constant({});
      return fc.record(
        Object.fromEntries(keys.map((k) => [k, fromJson(props[k], depth + 1)])),
        { requiredKeys: keys.filter((k) => required.has(k)) },
      );
    }
    case 'array': {
      if (s.prefixItems) return fc.tuple(...s.prefixItems.map((p) => fromJson(p, depth + 1)));
      const min = s.minItems ?? 0;
      const max = Math.min(s.maxItems ?? min + 4, min + 4);
      return fc.array(s.items ? fromJson(s.items, depth + 1) : fc.jsonValue({ maxDepth: 1 }), { minLength: min, maxLength: max });
    }
    case 'integer': {
      const min = s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + 1 : -1000);
      const max = s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - 1 : min + 1000);
      return fc.integer({ min: Math.max(min, -(2 ** 31)), max: Math.min(max, 2 ** 31 - 1) });
    }
    case 'number': {
      const min = s.minimum ?? s.exclusiveMinimum ?? -1e6;
      const max = s.maximum ?? s.exclusiveMaximum ?? min + 1e6;
      return fc.double({
        min, max, noNaN: true, noDefaultInfinity: true,
        minExcluded: s.exclusiveMinimum !== undefined, maxExcluded: s.exclusiveMaximum !== undefined,
      });
    }
    case 'string': {
      const minLength = s.minLength ?? 0;
      const maxLength = Math.min(s.maxLength ?? minLength + 16, minLength + 16);
      if (s.pattern) return fc.string({ unit: fc.constantFrom(...RUN_ID_CHARS), minLength: Math.max(1, minLength), maxLength });
      return fc.string({ minLength, maxLength });
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Values shaped like `schema` (most parse; cross-field refinements may reject a few). */
export function validish(schema: z.ZodType): fc.Arbitrary<unknown> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return fromJson(json);
}

type Path = (string | number)[];

function paths(value: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(value)) value.forEach((v, i) => paths(v, [...at, i], out));
  else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) paths(v, [...at, k], out);
  return out;
}

const DROP = Symbol('drop');

/** A copy of `value` with the node at `at` replaced by `bad`, or removed when `bad` is DROP. */
function setAt(value: unknown, at: Path, bad: unknown): unknown {
  if (at.length === 0) return bad === DROP ? undefined : bad;
  const [head, ...rest] = at;
  if (Array.isArray(value)) {
    const copy = [...value];
    if (rest.length === 0 && bad === DROP) copy.splice(head as number, 1);
    else copy[head as number] = setAt(copy[head as number], rest, bad);
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  if (rest.length === 0 && bad === DROP) delete copy[head as string];
  else copy[head as string] = setAt(copy[head as string], rest, bad);
  return copy;
}


/** Wrong values of every JSON type, plus the classics: empty, huge, negative, fractional, NaN-as-null. */
const badValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(null, '', -1, 0.5, 1e308, -0, true, [], {}, '../../etc/passwd', '\u0000', 'x'.repeat(70_000)),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);

/** A value shaped like `schema`, broken in exactly one place. */
export function mutated(schema: z.ZodType): fc.Arbitrary<unknown> {
  return validish(schema).chain((v) => {
    const all = paths(v);
    return fc.tuple(fc.constantFrom(...all), fc.oneof(badValue, fc.constant(DROP))).map(([at, bad]) => setAt(v, at, bad));
  });
}

/** Either kind, for a fuzzer that wants both near misses and valid messages. */
export function protocolValues(schema: z.ZodType): fc.Arbitrary<unknown> {
  return fc.oneof({ arbitrary: mutated(schema), weight: 3 }, { arbitrary: validish(schema), weight: 1 }, { arbitrary: fc.jsonValue(), weight: 1 });
}
