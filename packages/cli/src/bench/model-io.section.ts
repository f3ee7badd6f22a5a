import { reducedResnet18Graph } from './bench-models.js';
import { checkpointBench } from './checkpoint.bench.js';
import { MODEL_IO_SAMPLE, onnxRoundTrips } from './model-io.bench.js';
import { RoundLog } from './round-log.js';
import { put, type BenchRow, type JsonObject } from './throughput.section.js';

/** Sizes of the model I/O section: the full run's, and the smoke run's (`--quick`, the tests). */
export interface ModelIoSizes {
  /** First-stage filters of the ResNet exported to ONNX (64: 11.2M parameters). */
  readonly onnxNf: number;
  /** First-stage filters of the checkpointed ResNet (20: the `--backbone` bench ResNet). */
  readonly checkpointNf: number;
  /** Training samples of each of the checkpoint run's two experiences (2 × 512 fill the 1,000-sample replay buffer). */
  readonly checkpointSamples: number;
  /** Rounds; each figure is the fastest round's. */
  readonly rounds: number;
}

/** What `npm run bench -- --io` measures. */
export const MODEL_IO_FULL: ModelIoSizes = { onnxNf: 64, checkpointNf: 20, checkpointSamples: 512, rounds: 3 };
/** Tiny sizes: proves every path works; the figures mean nothing. */
export const MODEL_IO_QUICK: ModelIoSizes = { onnxNf: 4, checkpointNf: 4, checkpointSamples: 64, rounds: 1 };

const fastest = (xs: readonly number[]): number => (xs.length > 0 ? Math.min(...xs) : NaN);

/**
 * Model I/O (`--io`, issue #32 item 4), fastest of `sizes.rounds` rounds (I/O times only ever grow with
 * noise):
 * - `onnxExport10mSeconds` / `onnxImport10mSeconds`: `exportOnnx` of the reduced ResNet-18 with nf 64
 *   (`onnx10mParameters`, file `onnx10mBytes`) and the file written; the file read and imported as
 *   `model.load` does. `onnxRoundTripMaxAbsDifference`: the largest |imported − original| logit.
 * - `resnetCheckpoint{Write,Read}Seconds`, `resnetCheckpoint{Bytes,Parameters}`: the bench ResNet (nf 20)
 *   trained with Adam and a 1,000-sample replay buffer, checkpointed by the engine, read back verified
 *   (as `checkpointWriteSeconds` for the MLP).
 * Each round's quietness goes to `logs`.
 */
export async function modelIoSection(
  sizes: ModelIoSizes,
  json: JsonObject,
  rows: BenchRow[],
  logs: RoundLog[],
): Promise<void> {
  const log = new RoundLog('model-io');
  logs.push(log);
  const exports: number[] = [];
  const imports: number[] = [];
  const writes: number[] = [];
  const reads: number[] = [];
  let parameters = NaN;
  let bytes = NaN;
  let difference = 0;
  let checkpoint = { parameters: NaN, bytes: NaN };
  const model = { graph: reducedResnet18Graph(sizes.checkpointNf) };
  for (let r = 0; r < sizes.rounds; r++) {
    await log.round(async () => {
      const [trip] = await onnxRoundTrips(sizes.onnxNf, 1);
      if (trip) {
        exports.push(trip.exportSeconds);
        imports.push(trip.importSeconds);
        ({ parameters, bytes } = trip);
        difference = Math.max(difference, trip.maxAbsDifference);
      }
      const c = await checkpointBench({ model, sampleShape: MODEL_IO_SAMPLE, samples: sizes.checkpointSamples });
      writes.push(c.writeSeconds);
      reads.push(c.readSeconds);
      checkpoint = { parameters: c.parameters, bytes: c.bytes };
    });
  }
  put(json, 'onnx10mParameters', parameters);
  put(json, 'onnx10mBytes', bytes);
  put(json, 'onnxExport10mSeconds', fastest(exports));
  put(json, 'onnxImport10mSeconds', fastest(imports));
  put(json, 'onnxRoundTripMaxAbsDifference', difference);
  put(json, 'resnetCheckpointParameters', checkpoint.parameters);
  put(json, 'resnetCheckpointBytes', checkpoint.bytes);
  put(json, 'resnetCheckpointWriteSeconds', fastest(writes));
  put(json, 'resnetCheckpointReadSeconds', fastest(reads));
  const label = `resnet nf ${sizes.onnxNf} (${(parameters / 1e6).toFixed(1)}M)`;
  rows.push(
    { name: `onnx export ${label}`, value: fastest(exports) * 1000, unit: 'ms' },
    { name: `onnx import ${label}`, value: fastest(imports) * 1000, unit: 'ms' },
    { name: `resnet nf ${sizes.checkpointNf} checkpoint write`, value: fastest(writes) * 1000, unit: 'ms' },
    { name: `resnet nf ${sizes.checkpointNf} checkpoint read`, value: fastest(reads) * 1000, unit: 'ms' },
  );
}
