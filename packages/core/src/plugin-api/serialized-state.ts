/** A JSON value (what `JSON.stringify` round-trips exactly). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A numeric array with its shape, stored raw (little-endian) in checkpoints. */
export interface StateArray {
  readonly dtype: 'float32' | 'int32';
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array;
}

/**
 * Serialisable state of a strategy, transform or source: JSON metadata plus named raw arrays.
 * Checkpoints store `meta` as JSON and every array as a raw binary file, so loading never runs code
 * and restores floats bit-exactly.
 */
export interface SerializedState {
  readonly meta?: JsonValue;
  readonly arrays?: Readonly<Record<string, StateArray>>;
}
