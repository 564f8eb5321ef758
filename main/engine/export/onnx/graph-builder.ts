import {
  AttributeType,
  DataType,
  type AttributeProtoData,
  type NodeProtoData,
  type TensorProtoData,
  type ValueInfoProtoData,
} from './proto';

/** An attribute value: integers and integer lists become INT/INTS, other numbers FLOAT. */
export type AttrValue = { int: number } | { ints: number[] } | { float: number } | { string: string };

/**
 * Collects ONNX nodes and initializers in topological order, keeping value names unique.
 * Raw little-endian bytes are what ONNX expects in `raw_data` (onnx.proto, TensorProto.raw_data).
 */
export class OnnxGraphBuilder {
  readonly nodes: NodeProtoData[] = [];
  readonly initializers: TensorProtoData[] = [];
  private readonly names = new Set<string>();

  /** Reserves a value name; a clash is a bug in the converter, not bad input. */
  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`Internal error: ONNX value name "${name}" is used twice.`);
    this.names.add(name);
    return name;
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  floatTensor(name: string, dims: number[], values: Float32Array): string {
    const count = dims.reduce((a, b) => a * b, 1);
    if (count !== values.length) {
      throw new Error(`Internal error: initializer "${name}" has shape [${dims.join(', ')}] but ${values.length} values.`);
    }
    this.initializers.push({ name: this.claim(name), dims, dataType: DataType.FLOAT, rawData: littleEndianBytes(values) });
    return name;
  }

  int64Tensor(name: string, values: number[]): string {
    const bytes = new Uint8Array(values.length * 8);
    const view = new DataView(bytes.buffer);
    values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
    this.initializers.push({ name: this.claim(name), dims: [values.length], dataType: DataType.INT64, rawData: bytes });
    return name;
  }

  node(opType: string, name: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, doc?: string): void {
    for (const out of outputs) this.claim(out);
    const attribute = Object.entries(attrs).map(([key, value]) => toAttribute(key, value));
    const node: NodeProtoData = { name, opType, input: inputs, output: outputs, attribute };
    if (doc) node.docString = doc;
    this.nodes.push(node);
  }

  /** Declares a graph input/output name so nodes cannot reuse it. */
  declare(name: string): string {
    return this.claim(name);
  }
}

function toAttribute(name: string, value: AttrValue): AttributeProtoData {
  if ('int' in value) return { name, type: AttributeType.INT, i: value.int };
  if ('ints' in value) return { name, type: AttributeType.INTS, ints: value.ints };
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value.string) };
}

function littleEndianBytes(values: Float32Array): Uint8Array {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return bytes;
}

/** A float tensor value with a dynamic batch dimension named `batch`. */
export function floatValueInfo(name: string, dims: (number | 'batch')[], doc?: string): ValueInfoProtoData {
  const info: ValueInfoProtoData = {
    name,
    type: {
      tensorType: {
        elemType: DataType.FLOAT,
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
  if (doc) info.docString = doc;
  return info;
}
