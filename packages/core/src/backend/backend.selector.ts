import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../pipeline/pipeline-definition.js';
import type { BackendReport, NativeAccelerator } from '../plugin-api/backend-report.js';
import { registerWasmGradients } from './wasm-gradients.js';
import { NO_ACCELERATION, type RunAccelerator } from './run-accelerator.js';

type Attempt = { ok: true; description: string; accelerator?: RunAccelerator } | { ok: false; reason: string };

/** An activated backend: the report, and the accelerated operations a run on it may use. */
export interface BackendSelection {
  readonly report: BackendReport;
  readonly accelerator: RunAccelerator;
}

/** An error's whole message on one line (a multi-line message's lines joined), never cut short. */
function oneLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ');
}

async function activate(name: string): Promise<Attempt | undefined> {
  const ok = await tf.setBackend(name).catch(() => false);
  // A failed init can leave tfjs on another backend silently: check what is really active.
  if (!ok || tf.getBackend() !== name) return { ok: false, reason: `tf.setBackend('${name}') failed` };
  await tf.ready();
  return undefined;
}

async function tryTensorflow(): Promise<Attempt> {
  const reasons: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
    } catch (e) {
      reasons.push(`${pkg} not importable (${oneLine(e)})`);
      continue;
    }
    const failed = await activate('tensorflow');
    if (!failed) return { ok: true, description: `tensorflow (${pkg})` };
    reasons.push(`${pkg}: ${failed.ok ? '' : failed.reason}`);
  }
  return { ok: false, reason: reasons.join('; ') };
}

async function tryWasm(): Promise<Attempt> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    return { ok: false, reason: `@tensorflow/tfjs-backend-wasm not importable: ${oneLine(e)}` };
  }
  const failed = await activate('wasm');
  if (failed) return failed;
  registerWasmGradients();
  if (process.env['ENGRAM_NATIVE'] === '0')
    return { ok: true, description: 'wasm (native kernels disabled: ENGRAM_NATIVE=0)' };
  const native = await loadNative();
  return native.loaded
    ? { ok: true, description: `wasm+${native.description}`, accelerator: native.accelerator ?? NO_ACCELERATION }
    : { ok: true, description: `wasm (${native.description})` };
}

async function loadNative(): Promise<{ loaded: boolean; description: string; accelerator?: RunAccelerator }> {
  const pkg = '@engram/native';
  let mod: { default?: NativeAccelerator } & Partial<NativeAccelerator>;
  try {
    mod = (await import(pkg)) as typeof mod;
  } catch {
    return { loaded: false, description: 'no native kernels: @engram/native not installed' };
  }
  const accel = mod.default ?? (mod as NativeAccelerator);
  try {
    const result = accel.load();
    if (!result.loaded) return result;
    const accelerator: RunAccelerator = {
      ...(typeof accel.quadraticPenalty === 'function' ? { quadraticPenalty: accel.quadraticPenalty } : {}),
      ...(typeof accel.applyWithPenalties === 'function' ? { applyWithPenalties: accel.applyWithPenalties } : {}),
      ...(typeof accel.accelerateOptimizer === 'function' ? { accelerateOptimizer: accel.accelerateOptimizer } : {}),
      ...(typeof accel.allFinite === 'function' ? { allFinite: accel.allFinite } : {}),
    };
    return { ...result, accelerator };
  } catch (e) {
    return { loaded: false, description: `no native kernels: ${oneLine(e)}` };
  }
}

async function tryCpu(): Promise<Attempt> {
  const failed = await activate('cpu');
  return failed ?? { ok: true, description: 'cpu' };
}

const ORDER: Record<BackendName, Array<[string, () => Promise<Attempt>]>> = {
  auto: [
    ['tensorflow', tryTensorflow],
    ['wasm', tryWasm],
    ['cpu', tryCpu],
  ],
  tensorflow: [['tensorflow', tryTensorflow]],
  wasm: [['wasm', tryWasm]],
  cpu: [['cpu', tryCpu]],
};

/** Error raised when an explicitly requested backend cannot be used. */
export class BackendUnavailableError extends Error {}

/**
 * Activates a tfjs backend. `auto` tries tfjs-node-gpu / tfjs-node (when importable and working), then
 * wasm (with Engram's gradient rewrites and, when available, native kernels), then cpu, and reports
 * what it picked and why the others were skipped. An explicit name that cannot be used is an error.
 */
export async function selectBackend(requested: BackendName): Promise<BackendReport> {
  return (await activateBackend(requested)).report;
}

/**
 * {@link selectBackend}, also returning the accelerated operations (native penalty and optimizer
 * updates) a run on this backend may use. Nothing is installed globally: the caller hands the
 * accelerator to the run that asked (see `RunContext`).
 */
export async function activateBackend(requested: BackendName): Promise<BackendSelection> {
  const skipped: Array<{ name: string; reason: string }> = [];
  for (const [name, attempt] of ORDER[requested]) {
    const result = await attempt();
    if (result.ok)
      return {
        report: { requested, name: tf.getBackend(), description: result.description, skipped },
        accelerator: result.accelerator ?? NO_ACCELERATION,
      };
    skipped.push({ name, reason: result.reason });
  }
  throw new BackendUnavailableError(
    `backend "${requested}" is not available: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`,
  );
}
