import { WorkbenchError } from '../../../shared/errors';
import { allowed, reduce } from './pickle-globals';
import { PyDict, PyGlobal, PyTuple, isKey, typeName, type PyValue, type StorageRef } from './pickle-values';

export * from './pickle-values';

/**
 * A restricted unpickler for the pickles inside PyTorch checkpoints (`torch.save`).
 *
 * A pickle is a program for a small stack machine, and Python's own unpickler runs whatever
 * callable it names (`os.system`, `builtins.eval`, ...), so a `.pth` from the internet is not safe
 * to open with it. This one follows the design of PyTorch's own `weights_only` unpickler
 * (torch/_weights_only_unpickler.py): it implements the opcodes a state dict uses, resolves a
 * global only when it is one of the few names a state dict needs, and turns a REDUCE of one of
 * them into plain data. It never calls anything the pickle names; every other global is refused
 * with an error naming it.
 *
 * Written here because no maintained npm package fits: the pickle parsers on npm are unmaintained
 * one-release packages, and both build objects for any global they meet, where this must refuse.
 */

export interface UnpickleOptions {
  /** Called for BINPERSID with the id (a tuple); returns the storage it names. */
  persistentLoad?: (pid: PyTuple) => StorageRef;
  /** Names the file in errors. */
  label?: string;
}

/** Thrown for anything the restricted unpickler will not do, or a malformed pickle. */
export class UnpicklingError extends WorkbenchError {}

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/**
 * Runs the pickle in `bytes` from `start` up to its STOP opcode. Returns the value and the offset
 * just after STOP (legacy checkpoints hold several pickles back to back).
 */
export function unpickle(bytes: Uint8Array, start = 0, options: UnpickleOptions = {}): { value: PyValue; end: number } {
  const label = options.label ?? 'The pickle';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: StackItem[] = [];
  const memo = new Map<number, PyValue>();
  let pos = start;

  const fail = (what: string) => new UnpicklingError(`${label} cannot be read safely: ${what} (at byte ${pos - start} of the pickle).`);
  const need = (n: number) => {
    if (!Number.isSafeInteger(n) || n < 0 || pos + n > bytes.length) throw fail(`it ends early: ${n} more bytes were expected where ${bytes.length - pos} remain (truncated file?)`);
  };
  const u8 = () => (need(1), bytes[pos++]);
  const u16 = () => (need(2), (pos += 2), view.getUint16(pos - 2, true));
  const i32 = () => (need(4), (pos += 4), view.getInt32(pos - 4, true));
  const u32 = () => (need(4), (pos += 4), view.getUint32(pos - 4, true));
  const u64 = () => {
    need(8);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw fail(`a length of ${v} bytes is impossible`);
    return Number(v);
  };
  const take = (n: number) => (need(n), (pos += n), bytes.subarray(pos - n, pos));
  const utf8 = (raw: Uint8Array) => {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw fail('a string is not valid UTF-8');
    }
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw fail('a GLOBAL name has no end of line');
    const text = utf8(bytes.subarray(pos, end));
    pos = end + 1;
    return text;
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined) throw fail('the stack is empty');
    if (v === MARK) throw fail('a MARK stands where a value was expected');
    return v;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw fail('there is no value on the stack');
    return v;
  };
  const popMark = (): PyValue[] => {
    const at = stack.lastIndexOf(MARK);
    if (at < 0) throw fail('no MARK to pop to');
    const items = stack.splice(at) as PyValue[];
    items.shift();
    return items;
  };
  const global = (module: string, name: string) => {
    if (!allowed(module, name)) {
      throw new UnpicklingError(
        `${label} was refused: its pickle asks for the Python global ${module}.${name}. A state dict needs only tensors, storages, ` +
          'OrderedDict and torch.Size, and the workbench loads nothing else and runs nothing from a pickle. If this is a whole ' +
          "pickled model or training state, save just its weights in Python: torch.save(model.state_dict(), 'weights.pth').",
      );
    }
    stack.push(new PyGlobal(module, name));
  };
  const setItem = (target: PyValue, key: PyValue, value: PyValue) => {
    if (!(target instanceof PyDict)) throw fail(`SETITEM on a ${typeName(target)}, not a dict`);
    if (!isKey(key)) throw fail(`a dict key is a ${typeName(key)}; only strings, numbers, booleans and None are read`);
    target.entries.set(key, value);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        if (u8() > 5) throw fail('the pickle protocol is newer than 5');
        break;
      case 0x95: // FRAME: a length hint only
        u64();
        break;
      case 0x2e: { // STOP
        const value = pop();
        return { value, end: pos };
      }
      case 0x28: stack.push(MARK); break; // MARK
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(i32()); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(u16()); break; // BININT2
      case 0x8a: stack.push(decodeLong(take(u8()))); break; // LONG1
      case 0x8b: { // LONG4
        const n = i32();
        if (n < 0) throw fail('LONG4 has a negative length');
        stack.push(decodeLong(take(n)));
        break;
      }
      case 0x47: { // BINFLOAT: big-endian double
        need(8);
        stack.push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x8c: stack.push(utf8(take(u8()))); break; // SHORT_BINUNICODE
      case 0x58: stack.push(utf8(take(u32()))); break; // BINUNICODE
      case 0x8d: stack.push(utf8(take(u64()))); break; // BINUNICODE8
      // Python 2 str: ASCII in every checkpoint that uses it (legacy storage keys, 'storage').
      case 0x55: stack.push(latin1(take(u8()))); break; // SHORT_BINSTRING
      case 0x54: { // BINSTRING
        const n = i32();
        if (n < 0) throw fail('BINSTRING has a negative length');
        stack.push(latin1(take(n)));
        break;
      }
      case 0x43: stack.push(take(u8()).slice()); break; // SHORT_BINBYTES
      case 0x42: stack.push(take(u32()).slice()); break; // BINBYTES
      case 0x8e: stack.push(take(u64()).slice()); break; // BINBYTES8
      case 0x29: stack.push(new PyTuple([])); break; // EMPTY_TUPLE
      case 0x74: stack.push(new PyTuple(popMark())); break; // TUPLE
      case 0x85: stack.push(new PyTuple([pop()])); break; // TUPLE1
      case 0x86: { // TUPLE2
        const b = pop();
        stack.push(new PyTuple([pop(), b]));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(new PyTuple([pop(), b, c]));
        break;
      }
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x61: { // APPEND
        const item = pop();
        const list = top();
        if (!Array.isArray(list)) throw fail(`APPEND to a ${typeName(list)}, not a list`);
        list.push(item);
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        const list = top();
        if (!Array.isArray(list)) throw fail(`APPENDS to a ${typeName(list)}, not a list`);
        for (const item of items) list.push(item);
        break;
      }
      case 0x7d: stack.push(new PyDict()); break; // EMPTY_DICT
      case 0x64: { // DICT
        const items = popMark();
        if (items.length % 2) throw fail('DICT has an odd number of items');
        const dict = new PyDict();
        for (let i = 0; i < items.length; i += 2) setItem(dict, items[i], items[i + 1]);
        stack.push(dict);
        break;
      }
      case 0x73: { // SETITEM
        const value = pop();
        const key = pop();
        setItem(top(), key, value);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        if (items.length % 2) throw fail('SETITEMS has an odd number of items');
        const dict = top();
        for (let i = 0; i < items.length; i += 2) setItem(dict, items[i], items[i + 1]);
        break;
      }
      case 0x63: { // GLOBAL "module\nname\n"
        const module = line();
        global(module, line());
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw fail('STACK_GLOBAL needs two strings');
        global(module, name);
        break;
      }
      case 0x52: { // REDUCE: call one of the allowed globals, i.e. build plain data
        const args = pop();
        const fn = pop();
        if (!(fn instanceof PyGlobal)) throw fail(`REDUCE calls a ${typeName(fn)}; only the allowed globals can be called`);
        if (!(args instanceof PyTuple)) throw fail(`REDUCE of ${fn.qualified} has ${typeName(args)} arguments, not a tuple`);
        stack.push(reduce(fn, args.items, fail));
        break;
      }
      case 0x62: { // BUILD: only the attributes of an OrderedDict (a state dict's _metadata)
        const state = pop();
        const target = top();
        if (!(target instanceof PyDict)) throw fail(`BUILD on a ${typeName(target)}; only an OrderedDict's attributes are accepted`);
        target.attributes = state;
        break;
      }
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!(pid instanceof PyTuple) || pid.items[0] !== 'storage') throw fail(`a persistent id is ${describePid(pid)}; only ('storage', ...) ids are read`);
        if (!options.persistentLoad) throw fail('it refers to a tensor storage outside the pickle, which this reader cannot resolve');
        stack.push(options.persistentLoad(pid));
        break;
      }
      case 0x68: pushMemo(u8()); break; // BINGET
      case 0x6a: pushMemo(u32()); break; // LONG_BINGET
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      default:
        throw fail(`opcode 0x${op.toString(16).padStart(2, '0')} (${OPCODE_NAMES[op] ?? 'unknown'}) is not used by state dicts and is not supported`);
    }
  }

  function pushMemo(i: number) {
    if (!memo.has(i)) throw fail(`memo entry ${i} was never stored`);
    stack.push(memo.get(i)!);
  }
}

/** Opcodes a pickle may use that this reader refuses; named in the error. */
const OPCODE_NAMES: Record<number, string> = {
  0x69: 'INST', 0x6f: 'OBJ', 0x81: 'NEWOBJ', 0x92: 'NEWOBJ_EX', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4',
  0x50: 'PERSID', 0x49: 'INT', 0x4c: 'LONG', 0x46: 'FLOAT', 0x53: 'STRING', 0x56: 'UNICODE', 0x67: 'GET', 0x70: 'PUT',
  0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/** Little-endian two's complement, as pickle's LONG1/LONG4; a number when it is safe. */
function decodeLong(raw: Uint8Array): number | bigint {
  if (raw.length === 0) return 0;
  let v = 0n;
  for (let i = raw.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(raw[i]);
  if (raw[raw.length - 1] & 0x80) v -= 1n << BigInt(raw.length * 8);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function latin1(raw: Uint8Array): string {
  let s = '';
  for (const b of raw) s += String.fromCharCode(b);
  return s;
}

function describePid(pid: PyValue): string {
  if (pid instanceof PyTuple) return `a tuple starting with ${JSON.stringify(typeof pid.items[0] === 'string' ? pid.items[0] : typeName(pid.items[0]))}`;
  return `a ${typeName(pid)}`;
}
