import { concatBatches, type Batch, type BatchSource } from '@engram/core';

/**
 * Reads a finite batch source completely into one host batch (in order, no shuffling). Used by
 * strategies that train on the union of past experiences. Fails clearly on an endless source.
 */
export async function materialize(source: BatchSource, who: string, seed = 0): Promise<Batch | undefined> {
  if (source.endless) throw new Error(`${who} needs finite experiences; it cannot hold an endless stream`);
  const parts: Batch[] = [];
  for await (const b of source.batches({ batchSize: 1024, shuffle: false, epoch: 0, seed })) parts.push(b);
  return parts.length > 0 ? concatBatches(parts) : undefined;
}
