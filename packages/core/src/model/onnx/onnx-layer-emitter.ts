import type * as tf from '@tensorflow/tfjs';
import type { OnnxGraphWriter } from './onnx-graph-writer.js';

/**
 * One tfjs layer call to emit: the layer, its input tensor names and shapes (NHWC for images). Built by
 * the exporter for each layer of the model, in graph order, and handed to that layer's
 * {@link LayerEmitter}.
 */
export interface LayerCall {
  readonly layer: tf.layers.Layer;
  readonly inputs: string[];
  readonly shapes: Array<Array<number | null>>;
}

/**
 * Emits ONNX nodes computing one layer call into the graph writer; returns the output tensor's name.
 * Reads the layer's weights (copies), never changes the layer. One per tfjs class name, in
 * `LAYER_EMITTERS` (onnx-export-layers.ts) and `RECURRENT_EMITTERS` (onnx-export-recurrent.ts).
 */
export type LayerEmitter = (g: OnnxGraphWriter, call: LayerCall, config: Record<string, unknown>) => string;

/** How an export error names the layer it could not emit: `layer "dense_1" (Dense)`. */
export const where = (call: LayerCall): string => `layer "${call.layer.name}" (${call.layer.getClassName()})`;
