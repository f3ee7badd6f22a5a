import protobuf from 'protobufjs';

/**
 * The subset of TensorBoard's published protos an event file needs, transcribed with the same field
 * numbers from tensorboard/compat/proto: event.proto (Event), summary.proto (Summary, Summary.Value,
 * SummaryMetadata, SummaryMetadata.PluginData), tensor.proto (TensorProto), tensor_shape.proto
 * (TensorShapeProto) and types.proto (DataType, only the values used). Fields Engram never writes
 * (graphs, images, histograms, session logs) are left out; a decoder skips them as unknown fields.
 */
export const TENSORBOARD_PROTO = `
syntax = "proto3";
package tensorboard;

enum DataType {
  DT_INVALID = 0;
  DT_FLOAT = 1;
  DT_DOUBLE = 2;
  DT_INT32 = 3;
  DT_STRING = 7;
  DT_INT64 = 9;
}

message TensorShapeProto {
  message Dim {
    int64 size = 1;
    string name = 2;
  }
  repeated Dim dim = 2;
  bool unknown_rank = 3;
}

message TensorProto {
  DataType dtype = 1;
  TensorShapeProto tensor_shape = 2;
  int32 version_number = 3;
  bytes tensor_content = 4;
  repeated float float_val = 5 [packed = true];
  repeated double double_val = 6 [packed = true];
  repeated int32 int_val = 7 [packed = true];
  repeated bytes string_val = 8;
  repeated int64 int64_val = 10 [packed = true];
}

message SummaryMetadata {
  message PluginData {
    string plugin_name = 1;
    bytes content = 2;
  }
  PluginData plugin_data = 1;
  string display_name = 2;
  string summary_description = 3;
}

message Summary {
  message Value {
    string node_name = 7;
    string tag = 1;
    SummaryMetadata metadata = 9;
    oneof value {
      float simple_value = 2;
      TensorProto tensor = 8;
    }
  }
  repeated Value value = 1;
}

message Event {
  double wall_time = 1;
  int64 step = 2;
  oneof what {
    string file_version = 3;
    Summary summary = 5;
  }
}
`;

/** One `Summary.Value` as Engram writes it: a scalar (`simpleValue`) or a text tensor. */
export interface SummaryValue {
  tag: string;
  simpleValue?: number;
  metadata?: { pluginData: { pluginName: string; content?: Uint8Array } };
  tensor?: { dtype: number; tensorShape: { dim: { size: number }[] }; stringVal: Uint8Array[] };
}

/** An `Event` as Engram writes it (the first one of a file carries `fileVersion` instead of `summary`). */
export interface TensorBoardEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  summary?: { value: SummaryValue[] };
}

let eventType: protobuf.Type | undefined;

/** The protobufjs `Event` type built from {@link TENSORBOARD_PROTO} (parsed once, on first use). */
export function tensorBoardEventType(): protobuf.Type {
  eventType ??= protobuf.parse(TENSORBOARD_PROTO, { keepCase: false }).root.lookupType('tensorboard.Event');
  return eventType;
}

/** Encodes an Event to its protobuf bytes (checked against the message type first). */
export function encodeEvent(event: TensorBoardEvent): Uint8Array {
  const type = tensorBoardEventType();
  const problem = type.verify(event);
  if (problem !== null) throw new Error(`tensorboard logger: bad event (${problem})`);
  return type.encode(type.fromObject(event)).finish();
}

/** Decodes an Event's protobuf bytes (int64 steps as numbers, bytes as Buffers). */
export function decodeEvent(bytes: Uint8Array): TensorBoardEvent {
  const type = tensorBoardEventType();
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false }) as TensorBoardEvent;
}
