/**
 * Format version of checkpoint directories written by this core. 2: every part's state in
 * `state.json` under its JSON pointer (the checkpoint registry). 1 (read, upgraded on load): state
 * keys such as `strategy:0:ewc`, cursor and RNGs in `run.json`.
 */
export const CHECKPOINT_FORMAT = 2;

/** Formats this core reads. */
export const READABLE_CHECKPOINT_FORMATS: readonly number[] = [1, 2];

/** `manifest.json` of a checkpoint directory. */
export interface CheckpointManifest {
  readonly format: number;
  readonly engram: string;
  readonly step: number;
  readonly createdAt: string;
  /** sha256 (hex) and size of every other file, by path relative to the checkpoint directory. */
  readonly files: Record<string, { sha256: string; bytes: number }>;
}

/** Largest `manifest.json` read, in bytes. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/** Checks the parsed manifest's shape: format, step, and `files` as path → { sha256, bytes }. Throws a one-line `Error`. */
export function checkManifestShape(value: unknown): CheckpointManifest {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('manifest is not a JSON object');
  const m = value as Record<string, unknown>;
  if (typeof m['format'] !== 'number') throw new Error('manifest has no "format"');
  if (typeof m['step'] !== 'number' || !Number.isSafeInteger(m['step']) || m['step'] < 0)
    throw new Error('manifest "step" is not a non-negative integer');
  const files = m['files'];
  if (typeof files !== 'object' || files === null || Array.isArray(files))
    throw new Error('manifest "files" is missing or not an object');
  const checked: Record<string, { sha256: string; bytes: number }> = Object.create(null) as Record<
    string,
    { sha256: string; bytes: number }
  >;
  for (const [path, meta] of Object.entries(files as Record<string, unknown>)) {
    const f = meta as { sha256?: unknown; bytes?: unknown } | null;
    if (
      typeof f !== 'object' ||
      f === null ||
      typeof f.sha256 !== 'string' ||
      !/^[0-9a-f]{64}$/.test(f.sha256) ||
      typeof f.bytes !== 'number' ||
      !Number.isSafeInteger(f.bytes) ||
      f.bytes < 0
    ) {
      throw new Error(`manifest entry "${path}" is not { sha256, bytes }`);
    }
    checked[path] = { sha256: f.sha256, bytes: f.bytes };
  }
  return {
    format: m['format'],
    engram: typeof m['engram'] === 'string' ? m['engram'] : '',
    step: m['step'],
    createdAt: typeof m['createdAt'] === 'string' ? m['createdAt'] : '',
    files: checked,
  };
}
