import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/**
 * ONNX's protobuf messages, loaded with protobufjs from the committed subset of upstream
 * `onnx/onnx.proto` that sits beside this file (field numbers copied verbatim from upstream).
 */

/** TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT64: 7 } as const;

/** AttributeProto.AttributeType values used here. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

/** ONNX IR version 7 is the first to carry opset 13 (onnx/docs/Versioning.md). */
export const IR_VERSION = 7;
export const OPSET_VERSION = 13;

let root: protobuf.Root | null = null;

function onnxRoot(): protobuf.Root {
  if (!root) root = protobuf.loadSync(fileURLToPath(new URL('./onnx.proto', import.meta.url)));
  return root;
}

export function modelProtoType(): protobuf.Type {
  return onnxRoot().lookupType('onnx.ModelProto');
}

/** Plain-object shapes of the messages we write (field names as protobufjs camel-cases them). */
export interface TensorProtoData {
  name: string;
  dims: number[];
  dataType: number;
  rawData: Uint8Array;
}
export interface AttributeProtoData {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  floats?: number[];
  ints?: number[];
}
export interface NodeProtoData {
  name: string;
  opType: string;
  input: string[];
  output: string[];
  attribute: AttributeProtoData[];
  docString?: string;
}
export interface ValueInfoProtoData {
  name: string;
  docString?: string;
  type: { tensorType: { elemType: number; shape: { dim: ({ dimValue: number } | { dimParam: string })[] } } };
}
export interface GraphProtoData {
  name: string;
  node: NodeProtoData[];
  initializer: TensorProtoData[];
  input: ValueInfoProtoData[];
  output: ValueInfoProtoData[];
  docString?: string;
}
export interface ModelProtoData {
  irVersion: number;
  opsetImport: { domain: string; version: number }[];
  producerName: string;
  producerVersion: string;
  docString?: string;
  graph: GraphProtoData;
  metadataProps: { key: string; value: string }[];
}

/** Serializes a model; `verify` catches a field of the wrong type before it turns into bad bytes. */
export function encodeModel(model: ModelProtoData): Uint8Array {
  const type = modelProtoType();
  const problem = type.verify(model);
  if (problem) throw new Error(`Internal error: the ONNX model does not match onnx.proto: ${problem}.`);
  return type.encode(type.fromObject(model)).finish();
}

/** Parses ONNX bytes into plain objects (int64 as numbers, bytes as Uint8Array). */
export function decodeModel(bytes: Uint8Array): ModelProtoData {
  const type = modelProtoType();
  return type.toObject(type.decode(bytes), { longs: Number, bytes: Uint8Array, defaults: false, arrays: true }) as ModelProtoData;
}
