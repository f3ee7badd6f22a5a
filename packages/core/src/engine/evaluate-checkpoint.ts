import * as tf from '@tensorflow/tfjs';
import { lastValueFrom, toArray } from 'rxjs';
import { selectBackend } from '../backend/backend.selector.js';
import { latestValidCheckpoint } from '../checkpoint/checkpoint-model.js';
import { decodeCheckpoint } from '../checkpoint/run-snapshot.js';
import type { DataSource } from '../plugin-api/data-source.js';
import type { EvaluationResult } from '../events/engram-event.js';
import { EventBus } from '../events/event-bus.js';
import { evaluate } from '../evaluation/evaluator.js';
import type { LoadedPipeline } from '../loading/pipeline.loader.js';
import { Rng } from '../random/rng.js';
import { componentMaker } from './component-maker.js';
import { buildPredictionView } from './prediction-view.js';

/** Result of {@link evaluateCheckpoint}. */
export interface CheckpointEvaluation {
  readonly dir: string;
  readonly step: number;
  readonly results: EvaluationResult[];
}

/**
 * Evaluates the newest valid checkpoint under `checkpointPath` on the test sets of every experience
 * of `loaded`'s data, without training: the checkpoint's model seen through the run's evaluation view
 * ({@link buildPredictionView}: the fitted preprocessing, the adjustments' and strategies'
 * `forEvaluation` — multi-head masks, Hedge's mixture of heads — and a strategy's own `predictor`,
 * iCaRL's nearest mean of exemplars), restored from the checkpoint's states. The run scores its test
 * sets the same way. Nothing in the checkpoint is executed.
 */
export async function evaluateCheckpoint(
  loaded: LoadedPipeline,
  checkpointPath: string,
  warn: (message: string) => void,
): Promise<CheckpointEvaluation> {
  const def = loaded.definition;
  await selectBackend(def.backend);
  const checkpoint = await latestValidCheckpoint(checkpointPath, warn);
  const bus = new EventBus();
  const source = componentMaker(loaded, new Rng(def.seed), bus)<DataSource>('dataset', def.data, '/data');
  try {
    const { states, model: artifacts } = decodeCheckpoint(checkpoint.files, checkpoint.format, checkpoint.dir, def);
    const info = await source.describe();
    if (info.experiences === 'endless')
      throw new Error('eval needs a pipeline with finite experiences (test sets); this one is a live stream');
    const network = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const view = await buildPredictionView(loaded, network, states, info).catch((e: unknown) => {
      network.dispose();
      throw e;
    });
    try {
      const experiences = await lastValueFrom(source.experiences().pipe(toArray()));
      const results = await evaluate(
        view.model,
        experiences,
        info.numClasses,
        def.evaluation.batchSize,
        (b) => view.prepare(b),
        view.predictor,
      );
      return { dir: checkpoint.dir, step: checkpoint.step, results };
    } finally {
      view.dispose();
    }
  } finally {
    await source.close?.();
    bus.complete();
  }
}
