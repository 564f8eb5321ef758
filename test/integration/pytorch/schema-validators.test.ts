import * as fs from 'node:fs';
import { expect, it } from 'vitest';
import { describeTorch, pythonJson } from '../../support/python';

interface Case { schema: 'command' | 'event'; valid: boolean; note: string; value: unknown }
const { cases } = JSON.parse(fs.readFileSync(new URL('../../fixtures/protocol-cases.json', import.meta.url), 'utf8')) as { cases: Case[] };

describeTorch('the PyTorch engine validates messages as zod does', () => {
  it('its subset validator (and jsonschema, where installed) agrees with zod on every shared case, naming where a message is wrong', () => {
    const r = pythonJson<{ subset: (string | null)[]; jsonschema: (string | null)[] | null }>('schema_cases.py', { cases });
    cases.forEach((c, i) => {
      expect({ note: c.note, ok: r.subset[i] === null }).toEqual({ note: c.note, ok: c.valid });
      if (r.jsonschema) expect({ note: c.note, ok: r.jsonschema[i] === null }).toEqual({ note: c.note, ok: c.valid });
    });
    const at = (note: string) => r.subset[cases.findIndex((c) => c.note === note)];
    expect(at('batch size above 4096')).toBe('settings.batchSize: must be ≤ 4096; got 5000');
    expect(at('an unknown command')).toMatch(/^type: must be one of "start", "resumeRun", .*; got "fly"$/);
    expect(at('start without a model')).toBe('model: is required');
    expect(at('a 31-bin histogram')).toBe('layers[0].histogram: must have at least 32 items; got 31');
  });
});
