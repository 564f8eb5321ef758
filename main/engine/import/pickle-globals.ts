import { PyDict, PyTuple, PyGlobal, STORAGE_TYPES, isKey, isStorage, isTensor, type PyValue, type StorageRef } from './pickle-values';

/**
 * The only globals a state dict pickle needs, and what a REDUCE of each builds: PyTorch's own
 * `weights_only` allow-list (torch/_weights_only_unpickler.py) cut down to tensors, storages,
 * OrderedDict and torch.Size. Nothing here calls anything; each "call" builds plain data.
 */
const CALLABLE = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch.Size',
]);

export function allowed(module: string, name: string): boolean {
  return CALLABLE.has(`${module}.${name}`) || (module === 'torch' && Object.hasOwn(STORAGE_TYPES, name));
}

export function reduce(fn: PyGlobal, args: PyValue[], fail: (what: string) => Error): PyValue {
  const name = fn.qualified;
  switch (name) {
    case 'collections.OrderedDict': {
      const dict = new PyDict();
      if (args.length > 0) {
        const pairs = args[0];
        if (!Array.isArray(pairs)) throw fail('OrderedDict() takes no arguments or a list of pairs here');
        // Python 2 pickled an OrderedDict as OrderedDict([[key, value], ...]): lists, not tuples.
        for (const pair of pairs) {
          const kv = pair instanceof PyTuple ? pair.items : Array.isArray(pair) ? pair : null;
          if (!kv || kv.length !== 2 || !isKey(kv[0])) throw fail('OrderedDict() got an item that is not a (key, value) pair');
          dict.entries.set(kv[0], kv[1]);
        }
      }
      return dict;
    }
    case 'torch.Size': {
      const items = args[0];
      if (!(items instanceof PyTuple) || !items.items.every(isIndex)) throw fail('torch.Size() takes a tuple of sizes');
      return items;
    }
    case 'torch._utils._rebuild_parameter': {
      // (data, requires_grad, backward_hooks): a Parameter is its data here.
      if (!isTensor(args[0] ?? null)) throw fail('_rebuild_parameter() needs a tensor');
      return args[0];
    }
    case 'torch._utils._rebuild_tensor':
    case 'torch._utils._rebuild_tensor_v2': {
      // (storage, storage_offset, size, stride[, requires_grad, backward_hooks[, metadata]])
      const [storage, offset, size, stride] = args;
      if (!isStorage(storage ?? null)) throw fail(`${fn.name}() needs a storage first`);
      if (!isIndex(offset ?? null)) throw fail(`${fn.name}() has a storage offset that is not a non-negative integer`);
      const dims = sizes(size ?? null);
      const steps = sizes(stride ?? null);
      if (!dims || !steps || dims.length !== steps.length) throw fail(`${fn.name}() needs a size and a stride tuple of the same length`);
      return { kind: 'tensor', storage: storage as StorageRef, offset: Number(offset), size: dims, stride: steps };
    }
    default:
      // A storage class or other allowed name that is only a value, never called.
      throw fail(`${name} cannot be called`);
  }
}

function isIndex(v: PyValue): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function sizes(v: PyValue): number[] | null {
  if (!(v instanceof PyTuple) && !Array.isArray(v)) return null;
  const items = v instanceof PyTuple ? v.items : v;
  return items.every(isIndex) ? (items as number[]) : null;
}
