import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { WorkbenchError } from '../../../../shared/errors';
import { PyDict, PyTuple, UnpicklingError, unpickle, type PyValue } from '../../../../main/engine/import/pickle';
import { parseWeights } from '../../../../main/engine/import/weights-file';

/** Pickle bytes from opcodes (strings are latin-1) and raw numbers. */
function pk(...parts: (string | number[] | Uint8Array)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'string') for (const ch of p) out.push(ch.charCodeAt(0));
    else out.push(...p);
  }
  return Uint8Array.from(out);
}
const u32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
const unicode = (s: string) => pk('X', u32(Buffer.byteLength(s)), Buffer.from(s).toString('latin1'));
const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

/** pickle.dumps({'a': [1, 2.5, 'x', (True, None)], 'big': 2**70, 'neg': -5, 'b': b'\x00\x01', 'od': OrderedDict(k=300000)}, protocol=4) */
const PROTOCOL_4 = hex(
  '80049575000000000000007d94288c0161945d94284b014740040000000000008c017894884e8694658c03626967948a090000000000000000408c036e6567944afbffffff8c01629443020001948c026f64948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944ae093040073752e',
);
/** The same at protocol 2, where bytes pickle as a call of _codecs.encode. */
const PROTOCOL_2 = hex(
  '80027d71002858010000006171015d7102284b014740040000000000005801000000787103884e86710465580300000062696771058a0900000000000000004058030000006e656771064afbffffff5801000000627107635f636f646563730a656e636f64650a710858020000000001710958060000006c6174696e31710a86710b52710c58020000006f64710d63636f6c6c656374696f6e730a4f726465726564446963740a710e2952710f58010000006b71104ae093040073752e',
);

describe('restricted unpickler', () => {
  it('reads the plain values of a protocol-4 pickle (FRAME, MEMOIZE, STACK_GLOBAL, BINFLOAT, LONG1, bytes)', () => {
    const { value, end } = unpickle(PROTOCOL_4);
    expect(end).toBe(PROTOCOL_4.length);
    const d = value as PyDict;
    expect(d).toBeInstanceOf(PyDict);
    const a = d.entries.get('a') as PyValue[];
    expect(a.slice(0, 3)).toEqual([1, 2.5, 'x']);
    expect((a[3] as PyTuple).items).toEqual([true, null]);
    expect(d.entries.get('big')).toBe(2n ** 70n);
    expect(d.entries.get('neg')).toBe(-5);
    expect(d.entries.get('b')).toEqual(Uint8Array.from([0, 1]));
    expect((d.entries.get('od') as PyDict).entries.get('k')).toBe(300000);
  });

  it('refuses a global a state dict never needs, even a harmless one, naming it', () => {
    expect(() => unpickle(PROTOCOL_2, 0, { label: 'p2.pkl' })).toThrow(/p2\.pkl was refused: its pickle asks for the Python global _codecs\.encode\./);
  });

  const refusedGlobals: [string, Uint8Array][] = [
    ['os.system by GLOBAL', pk('\x80\x02cos\nsystem\n', unicode('touch /tmp/x'), '\x85R.')],
    ['builtins.eval by STACK_GLOBAL', pk('\x80\x04\x8c\x08builtins\x8c\x04eval\x93', unicode('1+1'), '\x85R.')],
    ['builtins.getattr', pk('cbuiltins\ngetattr\n.')],
    ['__builtin__.__import__ (Python 2)', pk('c__builtin__\n__import__\n.')],
    ['torch.load', pk('ctorch\nload\n.')],
    ['subprocess.Popen', pk('csubprocess\nPopen\n.')],
    ['torch.constructor (an Object.prototype name)', pk('ctorch\nconstructor\n.')],
    ['collections.__proto__', pk('ccollections\n__proto__\n.')],
  ];
  for (const [what, bytes] of refusedGlobals) {
    it(`refuses ${what}`, () => {
      const name = what.split(' ')[0];
      expect(() => unpickle(bytes)).toThrow(new RegExp(`asks for the Python global ${name.replace(/[.]/g, '\\.')}\\.`));
    });
  }

  const refusedOps: [string, Uint8Array, RegExp][] = [
    ['INST', pk('(ios\nsystem\n.'), /opcode 0x69 \(INST\) is not used by state dicts/],
    ['OBJ', pk('(o.'), /opcode 0x6f \(OBJ\)/],
    ['NEWOBJ', pk('ccollections\nOrderedDict\n)\x81.'), /opcode 0x81 \(NEWOBJ\)/],
    ['EXT1', pk('\x82\x01.'), /opcode 0x82 \(EXT1\)/],
    ['text-mode INT', pk('I1\n.'), /opcode 0x49 \(INT\)/],
    ['a REDUCE of an allowed storage class', pk('ctorch\nFloatStorage\n)R.'), /torch\.FloatStorage cannot be called/],
    ['a REDUCE of a string', pk(unicode('os.system'), ')R.'), /REDUCE calls a str; only the allowed globals can be called/],
    ['a persistent id that is not a storage', pk(unicode('module'), '\x85Q.'), /a persistent id is a tuple starting with "module"; only \('storage', \.\.\.\) ids are read/],
    ['BUILD on a list', pk(']}b.'), /BUILD on a list; only an OrderedDict's attributes are accepted/],
    ['a memo entry never stored', pk('h\x05.'), /memo entry 5 was never stored/],
    ['a string longer than the file', pk('X', u32(1000), 'abc'), /it ends early: 1000 more bytes were expected where 3 remain/],
    ['a pickle without STOP', pk('\x80\x02K\x01'), /it ends early/],
    ['a tuple as a dict key', pk('}K\x01\x85K\x02s.'), /a dict key is a tuple/],
  ];
  for (const [what, bytes, message] of refusedOps) {
    it(`refuses ${what}`, () => {
      expect(() => unpickle(bytes)).toThrow(message);
      expect(() => unpickle(bytes)).toThrow(UnpicklingError);
    });
  }
});

describe('restricted unpickler: fuzzed', () => {
  const ALLOWED = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter', 'torch.Size']);
  const onlyWorkbenchErrors = (run: () => unknown) => {
    try {
      run();
    } catch (err) {
      if (!(err instanceof WorkbenchError)) throw err;
    }
  };

  it('turns arbitrary bytes into a value or a WorkbenchError, never another exception or a hang', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => onlyWorkbenchErrors(() => unpickle(bytes))),
      { numRuns: 3000 },
    );
  });

  it('refuses every global outside the allow-list, whatever its name', () => {
    const name = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.includes('\n'));
    fc.assert(
      fc.property(fc.oneof(name, fc.constantFrom('os', 'builtins', 'torch', 'collections', 'torch._utils', 'posix', 'nt')), name, (module, attr) => {
        const qualified = `${module}.${attr}`;
        const bytes = pk('\x80\x02c', Buffer.from(`${module}\n${attr}\n`).toString('latin1'), ')R.');
        let error: unknown = null;
        try {
          unpickle(bytes);
        } catch (err) {
          error = err;
        }
        const storage = module === 'torch' && /Storage$/.test(attr);
        if (!ALLOWED.has(qualified) && !storage) {
          expect(error).toBeInstanceOf(UnpicklingError);
          expect((error as Error).message).toContain(`asks for the Python global ${qualified}.`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('meets damaged checkpoints (flipped, cut or inserted bytes) with a WorkbenchError only', async () => {
    const files = ['test/fixtures/pth/tiny_densenet_legacy.pth', 'test/fixtures/pth/tiny_densenet_wrapped_half.pth'].map((f) => fs.readFileSync(f));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, 1),
        fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), kind: fc.constantFrom('flip', 'cut', 'insert') }), { minLength: 1, maxLength: 4 }),
        async (which, edits) => {
          let bytes = Buffer.from(files[which]);
          for (const e of edits) {
            // Edits land mostly in the pickles at the front, where the structure is.
            const at = e.at % Math.min(bytes.length, 1500);
            if (e.kind === 'flip') bytes[at] = e.byte;
            else if (e.kind === 'cut') bytes = bytes.subarray(0, at);
            else bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([e.byte]), bytes.subarray(at)]);
          }
          try {
            await parseWeights(bytes, 'fuzzed.pth');
          } catch (err) {
            if (!(err instanceof WorkbenchError)) throw err;
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
