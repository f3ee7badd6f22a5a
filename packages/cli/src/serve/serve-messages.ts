import type { AddressInfo } from 'node:net';
import type { EngramEvent, ServeSettings, StreamInfo } from '@engram/core';
import type { ChannelStatus, PushAnswer, PushRequest } from './channel-relay.js';
import type { HeldOutSlice } from './gate-samples.js';
import type { VersionInfo, WeightSnapshot } from './model-version.js';
import type { ServeDoors } from './serve-doors.js';
import type { VersionDecision } from './version-history.js';

/** What the serving thread is started with (`workerData`). */
export interface ServeWorkerData {
  /** The pipeline file, absolute: the serving thread loads it with the same plugins. */
  readonly file: string;
  /** The definition the training thread loaded (JSON): the serving thread refuses a file changed since. */
  readonly definition: string;
  readonly extraPlugins: readonly string[];
  /** The run's `--set path=value` flags: the serving thread applies them as the run did. */
  readonly sets: readonly string[];
  readonly settings: ServeSettings;
  /** Tokens and TLS, resolved by the training thread (absent: plain http, open). */
  readonly doors?: ServeDoors;
}

/** Training thread → serving thread. */
export type ToServeThread =
  /** The run's data description and tfjs backend name (at run start, before the first snapshot). */
  | { readonly type: 'info'; readonly info: StreamInfo; readonly backend: string }
  /** One run event; `trained` with batch ends and the run end (samples and steps so far). */
  | {
      readonly type: 'event';
      readonly event: EngramEvent;
      readonly trained?: {
        readonly samples: number;
        readonly step: number;
        readonly tensors?: number;
        readonly heapUsed?: number;
      };
    }
  /** The feedback channel's shape and queue (undefined: none open). */
  | { readonly type: 'channel'; readonly status: ChannelStatus | undefined }
  /** A model version's weights and prediction states (its buffer transferred). */
  | { readonly type: 'snapshot'; readonly snapshot: WeightSnapshot }
  /** An experience's held-out slice for the promotion gates (sent as it fills). */
  | { readonly type: 'held-out'; readonly slice: HeldOutSlice }
  /** Asks for an answer once every snapshot sent so far is built. */
  | { readonly type: 'settle'; readonly rid: number }
  | { readonly type: 'close' }
  | PushAnswer;

/** Serving thread → training thread. */
export type FromServeThread =
  | { readonly type: 'listening'; readonly address: AddressInfo }
  /** Start-up failed (bad address, busy port, pipeline not loadable): the message says why. */
  | { readonly type: 'failed'; readonly message: string }
  /** A version became the served one. */
  | { readonly type: 'published'; readonly info: VersionInfo }
  /** A promotion decision, to be written to the run's events (metrics.jsonl). */
  | { readonly type: 'decision'; readonly decision: VersionDecision }
  /** A snapshot could not be built (serving goes on with the previous version). */
  | { readonly type: 'build-failed'; readonly message: string }
  | { readonly type: 'settled'; readonly rid: number; readonly info: VersionInfo | undefined }
  | PushRequest;
