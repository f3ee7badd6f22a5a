import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, toArray } from 'rxjs';
import { selectBackend } from '../backend/backend.selector.js';
import { checkpointModelArtifacts, latestValidCheckpoint } from '../checkpoint/checkpoint-model.js';
import { decodeStates } from '../checkpoint/state-codec.js';
import type { DataSource } from '../data/data-source.js';
import type { EvaluationResult } from '../events/engram-event.js';
import { EventBus } from '../events/event-bus.js';
import { evaluate } from '../evaluation/evaluator.js';
import { LayersEngramModel } from '../model/engram-model.js';
import type { LoadedPipeline } from '../pipeline/pipeline.loader.js';
import { componentMaker } from './component-maker.js';
import type { Transform } from '../preprocess/transform.js';
import { Rng } from '../random/rng.js';
import { PreprocessStage } from '../stages/preprocess.stage.js';

/** Result of {@link evaluateCheckpoint}. */
export interface CheckpointEvaluation {
  readonly dir: string;
  readonly step: number;
  readonly results: EvaluationResult[];
}

/**
 * Evaluates the newest valid checkpoint under `checkpointPath` on the test sets of every experience
 * of `loaded`'s data, without training: the checkpoint's model (plain tfjs Layers model) and its
 * preprocessing state (fitted transforms). Nothing in the checkpoint is executed.
 */
export async function evaluateCheckpoint(loaded: LoadedPipeline, checkpointPath: string, warn: (message: string) => void): Promise<CheckpointEvaluation> {
  const def = loaded.definition;
  await selectBackend(def.backend);
  const checkpoint = await latestValidCheckpoint(checkpointPath, warn);
  const rootRng = new Rng(def.seed);
  const bus = new EventBus();
  const make = componentMaker(loaded, rootRng, bus);
  const source = make<DataSource>('dataset', def.data, '/data');
  const transforms = def.preprocess.map((r, i) => make<Transform>('transform', r, `/preprocess/${i}`));
  const network = await tf.loadLayersModel(tf.io.fromMemory(checkpointModelArtifacts(checkpoint)));
  const model = new LayersEngramModel(network);
  try {
    const stateJson = checkpoint.files.get('state.json');
    if (stateJson) {
      const states = decodeStates(new TextDecoder().decode(stateJson), checkpoint.files.get('state.bin') ?? new Uint8Array(0));
      transforms.forEach((t, i) => {
        const s = states[`transform:${i}`];
        if (s && t.restore) t.restore(s);
      });
    }
    const info = await source.describe();
    if (info.experiences === 'endless') throw new Error('eval needs a pipeline with finite experiences (test sets); this one is a live stream');
    const experiences = await lastValueFrom(source.experiences().pipe(toArray()));
    const preprocess = new PreprocessStage(transforms);
    const results = await evaluate(model, experiences, info.numClasses, def.evaluation.batchSize, (b) => preprocess.prepare(b, 'test'));
    return { dir: checkpoint.dir, step: checkpoint.step, results };
  } finally {
    model.dispose();
    await source.close?.();
    bus.complete();
  }
}
