/**
 * Writes a checkpoint of the whole run (model, optimizer, strategies, transforms, source, RNGs,
 * cursor, metrics). The checkpoint stage decides when; the writer decides how.
 */
export interface CheckpointWriter {
  /** Writes a checkpoint now; returns its path and size. */
  save(reason: string): Promise<{ path: string; bytes: number }>;
}
