/** How every image of an image-folder source is decoded: the same in every worker, fixed per run. */
export interface DecodeSpec {
  /** 1 (grayscale) or 3 (RGB); alpha is dropped. */
  readonly channels: 1 | 3;
  /** Resize first: `[h, w]` exactly, or the shorter side to this length (aspect kept). */
  readonly resize?: number | readonly [number, number] | undefined;
  /** Then cut the central `[h, w]`. */
  readonly centerCrop?: readonly [number, number] | undefined;
  /** The `[h, w]` every decoded image must have (images of another size are skipped as unreadable). */
  readonly height: number;
  readonly width: number;
  /** Multiply the bytes by this (1/255: values in 0..1). */
  readonly scale: number;
}

/** A request to a decode worker: files in order, decoded into one `[files.length, h, w, c]` block. */
export interface DecodeRequest {
  readonly id: number;
  readonly files: readonly string[];
  readonly spec: DecodeSpec;
}

/** A worker's answer: the block (rows of failed files are zero) and which files failed, and why. */
export interface DecodeReply {
  readonly id: number;
  readonly x: Float32Array;
  readonly failed: readonly { readonly at: number; readonly reason: string }[];
}
