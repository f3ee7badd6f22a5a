import protobuf from 'protobufjs';
import { ONNX_PROTO } from './onnx-proto-schema.js';

/** ONNX `TensorProto.DataType` codes Engram reads or writes. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, DOUBLE: 11 } as const;

/** A decoded `TensorProto` (the fields Engram reads; protobufjs names them in camelCase). */
export interface TensorProto {
  name?: string;
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  rawData?: Uint8Array;
}

/** A decoded `AttributeProto`. */
export interface AttributeProto {
  name: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}

/** A decoded `NodeProto`. */
export interface NodeProto {
  name?: string;
  opType: string;
  domain?: string;
  input?: string[];
  output?: string[];
  attribute?: AttributeProto[];
}

/** A decoded `ValueInfoProto`, with the tensor type's shape (`dimValue` or a symbolic `dimParam`). */
export interface ValueInfoProto {
  name: string;
  type?: {
    tensorType?: { elemType?: number; shape?: { dim?: Array<{ dimValue?: number; dimParam?: string }> } };
  };
}

/** A decoded `GraphProto`. */
export interface GraphProto {
  name?: string;
  node?: NodeProto[];
  initializer?: TensorProto[];
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
}

/** A decoded `ModelProto`. */
export interface ModelProto {
  irVersion?: number;
  producerName?: string;
  producerVersion?: string;
  opsetImport?: Array<{ domain?: string; version?: number }>;
  graph?: GraphProto;
  metadataProps?: Array<{ key: string; value: string }>;
}

let modelType: protobuf.Type | undefined;

/** The `onnx.ModelProto` message type, parsed once from the published schema. */
function modelProtoType(): protobuf.Type {
  modelType ??= protobuf.parse(ONNX_PROTO).root.lookupType('onnx.ModelProto');
  return modelType;
}

/**
 * Decodes an `.onnx` file. Throws a one-line error (never a dump of the bytes) when the file is not a
 * protobuf `ModelProto`.
 */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const type = modelProtoType();
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (e) {
    throw new Error(`not an ONNX model (${(e as Error).message.split('\n')[0] ?? 'bad protobuf'})`, { cause: e });
  }
  return type.toObject(message, { longs: Number, enums: Number, arrays: false, defaults: false });
}

/** Encodes a `ModelProto` to the bytes of an `.onnx` file. */
export function encodeModel(model: ModelProto): Uint8Array {
  const type = modelProtoType();
  return type.encode(type.fromObject(model)).finish();
}

/** A constant tensor: its dims and values (float data as float32, integer data as numbers). */
export interface ConstTensor {
  readonly dims: number[];
  readonly data: Float32Array | number[];
}

/** The values of a decoded tensor; `what` names it in the error for an unsupported data type. */
export function tensorValues(t: TensorProto, what: string): ConstTensor {
  const dims = (t.dims ?? []).map(Number);
  const raw = t.rawData;
  const bytes = raw && raw.byteLength > 0 ? new Uint8Array(raw) : undefined; // copy: aligned for typed views
  switch (t.dataType) {
    case DataType.FLOAT:
      return { dims, data: bytes ? new Float32Array(bytes.buffer) : Float32Array.from(t.floatData ?? []) };
    case DataType.DOUBLE:
      return { dims, data: Float32Array.from(bytes ? new Float64Array(bytes.buffer) : (t.doubleData ?? [])) };
    case DataType.INT64:
      return { dims, data: bytes ? Array.from(new BigInt64Array(bytes.buffer), Number) : (t.int64Data ?? []) };
    case DataType.INT32:
      return { dims, data: bytes ? Array.from(new Int32Array(bytes.buffer)) : (t.int32Data ?? []) };
    default:
      throw new Error(
        `${what} has ONNX data type ${t.dataType ?? 'undefined'}; Engram reads float, double, int32 and int64`,
      );
  }
}

/** A float32 `TensorProto` with raw little-endian data. */
export function floatTensor(name: string, dims: number[], data: Float32Array): TensorProto {
  return {
    name,
    dims,
    dataType: DataType.FLOAT,
    rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}

/** An int64 `TensorProto` with raw little-endian data. */
export function int64Tensor(name: string, dims: number[], data: number[]): TensorProto {
  const a = BigInt64Array.from(data, (v) => BigInt(v));
  return { name, dims, dataType: DataType.INT64, rawData: new Uint8Array(a.buffer) };
}
