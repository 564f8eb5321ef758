import * as fs from 'node:fs';
import { expect, it } from 'vitest';
import { protocolJsonSchemaText, SCHEMA_FILE } from '../../../../main/engine/pytorch/json-schema';
import { TrainerCommandSchema, TrainerEventSchema } from '../../../../shared/protocol';

interface Case { schema: 'command' | 'event'; valid: boolean; note: string; value: unknown }
const { cases } = JSON.parse(fs.readFileSync(new URL('../../../fixtures/protocol-cases.json', import.meta.url), 'utf8')) as { cases: Case[] };

it('the committed JSON Schema is what the zod schemas generate (run `npm run schemas` when this fails)', () => {
  expect(fs.readFileSync(SCHEMA_FILE, 'utf8')).toBe(protocolJsonSchemaText());
});

it('zod judges every shared case as the case says', () => {
  for (const c of cases) {
    const ok = (c.schema === 'command' ? TrainerCommandSchema : TrainerEventSchema).safeParse(c.value).success;
    expect({ note: c.note, ok }).toEqual({ note: c.note, ok: c.valid });
  }
});
