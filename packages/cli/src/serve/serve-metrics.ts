import type { EngramEvent } from '@engram/core';
import * as tf from '@tensorflow/tfjs';
import { getHeapStatistics } from 'node:v8';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { TotalCounter } from './total-counter.js';

/** What the metrics read at scrape time. */
export interface MetricsSources {
  /** Records waiting in the feedback buffer (0 without a feedback source). */
  queueDepth(): number;
  /** Bytes and entries of the prediction store. */
  store(): { bytes: number; entries: number };
  /** Model versions whose build failed so far (the previous version stayed served). */
  failedBuilds(): number;
}

/**
 * The server's Prometheus metrics (own registry, `engram_` prefix), fed by the run's events
 * ({@link ServeMetrics.observe}) and by the request handlers; `GET /metrics` renders them in the
 * text exposition format.
 */
export class ServeMetrics {
  readonly registry = new Registry();
  private readonly samples = new TotalCounter({
    name: 'engram_samples_trained_total',
    help: 'Training samples consumed so far.',
    registers: [this.registry],
  });
  private readonly batches = new TotalCounter({
    name: 'engram_batches_total',
    help: 'Optimizer steps so far.',
    registers: [this.registry],
  });
  private readonly loss = new Gauge({
    name: 'engram_loss',
    help: 'Training loss of the last logged batch.',
    registers: [this.registry],
  });
  private readonly running = new Gauge({
    name: 'engram_running_accuracy',
    help: 'Training accuracy of the current epoch so far (last logged batch).',
    registers: [this.registry],
  });
  private readonly throughput = new Gauge({
    name: 'engram_samples_per_second',
    help: 'Training throughput at the last logged batch.',
    registers: [this.registry],
  });
  private readonly prequential = new Gauge({
    name: 'engram_prequential_accuracy',
    help: 'Prequential (test-then-train) accuracy of a stream run.',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly boundaries = new Counter({
    name: 'engram_drift_boundaries_total',
    help: 'Drift boundaries detected.',
    registers: [this.registry],
  });
  private readonly poisoned = new Counter({
    name: 'engram_poisoned_batches_total',
    help: 'Live batches skipped because their loss was NaN, infinite or above 1e12 (weights unchanged).',
    registers: [this.registry],
  });
  private readonly dropped = new TotalCounter<'source'>({
    name: 'engram_dropped_records_total',
    help: 'Records discarded by full live-source buffers.',
    labelNames: ['source'],
    registers: [this.registry],
  });
  private readonly checkpoint = new Histogram({
    name: 'engram_checkpoint_duration_seconds',
    help: 'Time to write a checkpoint.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly predictions = new Counter({
    name: 'engram_predictions_total',
    help: 'Instances predicted.',
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'engram_prediction_latency_seconds',
    help: 'Time to answer one POST /predict (validation, preprocessing, forward pass).',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly feedback = new Counter({
    name: 'engram_feedback_total',
    help: 'POST /feedback by result.',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly version = new Gauge({
    name: 'engram_model_version',
    help: 'Version number of the served model.',
    registers: [this.registry],
  });
  readonly promoted = new Counter({
    name: 'engram_versions_promoted_total',
    help: 'Model versions that became the served one, by reason (first, ungated, gates, forced, rollback).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: 'engram_versions_rejected_total',
    help: 'Model versions the promotion gates kept from serving, by the first check that failed.',
    labelNames: ['check'],
    registers: [this.registry],
  });
  readonly feedbackAccuracy = new Gauge({
    name: 'engram_feedback_accuracy',
    help: 'Delayed-label prequential accuracy of the served and the shadow predictions (scored as labels arrive).',
    labelNames: ['model'],
    registers: [this.registry],
  });
  readonly versionStep = new Gauge({
    name: 'engram_model_step',
    help: 'Optimizer steps of the served model.',
    registers: [this.registry],
  });

  constructor(sources: MetricsSources) {
    new Gauge({
      name: 'engram_queue_depth',
      help: 'Feedback records waiting to be trained on.',
      registers: [this.registry],
      collect() {
        this.set(sources.queueDepth());
      },
    });
    new Gauge({
      name: 'engram_prediction_store_bytes',
      help: 'Bytes held by the prediction store (bounded by serve.feedback.maxBytes).',
      registers: [this.registry],
      collect() {
        this.set(sources.store().bytes);
      },
    });
    new TotalCounter({
      name: 'engram_model_build_failures_total',
      help: 'Model versions whose build failed; the previous version stayed served.',
      registers: [this.registry],
      read: () => sources.failedBuilds(),
    });
    // process_* (CPU, memory, open files) and nodejs_* (event loop lag, heap, GC) of the serving process.
    collectDefaultMetrics({ register: this.registry });
    const trainingTensors = (): number => this.trainingTensors;
    new Gauge({
      name: 'engram_tensors',
      help:
        'Live tfjs tensors (tf.memory().numTensors): thread="training" as of the last batch end, thread="serving" ' +
        'at scrape time (the served versions, their spare network). Flat over a long run: nothing leaks.',
      labelNames: ['thread'],
      registers: [this.registry],
      collect() {
        this.set({ thread: 'serving' }, tf.memory().numTensors);
        const t = trainingTensors();
        if (t >= 0) this.set({ thread: 'training' }, t);
      },
    });
    const trainingHeap = (): number => this.trainingHeap;
    new Gauge({
      name: 'engram_heap_used_bytes',
      help:
        'V8 heap in use (bytes) per thread: thread="training" as of the last batch end, thread="serving" at ' +
        "scrape time. nodejs_heap_size_used_bytes is the serving thread's alone (the metrics live there).",
      labelNames: ['thread'],
      registers: [this.registry],
      collect() {
        this.set({ thread: 'serving' }, getHeapStatistics().used_heap_size);
        const t = trainingHeap();
        if (t >= 0) this.set({ thread: 'training' }, t);
      },
    });
    new Gauge({
      name: 'engram_prediction_store_entries',
      help: 'Predictions awaiting feedback.',
      registers: [this.registry],
      collect() {
        this.set(sources.store().entries);
      },
    });
  }

  /** Updates the run's figures from one event. */
  observe(e: EngramEvent): void {
    switch (e.type) {
      case 'batch-end':
        this.batches.setTotal(e.step);
        this.loss.set(e.loss);
        this.running.set(e.epochAccuracy);
        this.throughput.set(e.samplesPerSecond);
        break;
      case 'experience-end':
        break;
      case 'prequential':
        this.samples.setTotal(e.samples);
        this.prequential.set({ kind: 'cumulative' }, e.accuracy);
        this.prequential.set({ kind: 'window' }, e.windowAccuracy);
        this.prequential.set({ kind: 'fading' }, e.fadingAccuracy);
        break;
      case 'boundary':
        this.boundaries.inc();
        break;
      case 'poisoned-batch':
        this.poisoned.inc();
        break;
      case 'dropped':
        this.dropped.setTotal(e.total, { source: e.source });
        break;
      case 'checkpoint':
        this.checkpoint.observe(e.seconds);
        break;
      case 'run-end':
        this.batches.setTotal(e.steps);
        break;
      default:
        break;
    }
  }

  /** The training thread's live tensors at its last batch end (-1: not known yet). */
  private trainingTensors = -1;
  /** The training thread's V8 heap in use at its last batch end, bytes (-1: not known yet). */
  private trainingHeap = -1;

  /**
   * Samples trained so far, from the run's cursor (more precise than the logged events), and the
   * training thread's live tensors and V8 heap in use then.
   */
  setTrained(samples: number, steps: number, tensors?: number, heapUsed?: number): void {
    this.samples.setTotal(samples);
    this.batches.setTotal(steps);
    if (tensors !== undefined) this.trainingTensors = tensors;
    if (heapUsed !== undefined) this.trainingHeap = heapUsed;
  }

  /** The text exposition. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
