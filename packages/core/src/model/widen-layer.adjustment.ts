import { Type, type Static } from '@sinclair/typebox';
import type { AdjustContext } from '../plugin-api/adjustment.js';
import type { EngramModel } from '../plugin-api/engram-model.js';
import {
  addMap,
  buildPlan,
  chainOf,
  editLayer,
  plannedClass,
  planOf,
  type HostWeight,
  type PlannedLayer,
  type WeightMap,
} from './layer-surgery.js';
import { FromExperienceOption, SurgeryAdjustment } from './surgery.adjustment.js';
import type { Rng } from '../random/rng.js';

/** Options of the `widen-layer` adjustment. */
export const WidenLayerOptions = Type.Object(
  {
    layers: Type.Array(Type.String(), {
      minItems: 1,
      description: 'Names of the dense or conv2d layers to widen, widened one after the other.',
    }),
    units: Type.Integer({
      minimum: 1,
      description:
        'Units (dense) or filters (conv2d) each layer has afterwards; a layer already this wide is left alone.',
    }),
    noise: Type.Number({
      minimum: 0,
      default: 0,
      description:
        "Standard deviation of Gaussian noise (from the run's generator) added to each copied unit's outgoing " +
        "weights and subtracted from its source unit's, breaking the copies' symmetry while keeping the function.",
    }),
    fromExperience: FromExperienceOption,
  },
  { additionalProperties: false },
);

/** Layers a widening passes through unchanged (per-unit or shape-only operations). */
const PASS_THROUGH = new Set([
  'Activation',
  'Dropout',
  'SeededDropout',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  'Flatten',
]);

/** New unit `u` copies old unit `map[u]`; `counts[j]` is how many new units copy old unit `j`. */
interface UnitMap {
  readonly map: Int32Array;
  readonly counts: Int32Array;
  readonly before: number;
}

function unitMap(before: number, after: number, rng: Rng): UnitMap {
  const map = new Int32Array(after);
  const counts = new Int32Array(before);
  for (let u = 0; u < after; u++) {
    const j = u < before ? u : rng.int(before);
    map[u] = j;
    counts[j] = (counts[j] ?? 0) + 1;
  }
  return { map, counts, before };
}

/** Copies along the last axis: `[…, before]` → `[…, after]`, new unit `u` = old unit `map[u]`. */
function replicateLast(w: HostWeight, m: UnitMap): HostWeight {
  const after = m.map.length;
  const outer = w.data.length / m.before;
  const data = new Float32Array(outer * after);
  for (let s = 0; s < outer; s++)
    for (let u = 0; u < after; u++) data[s * after + u] = w.data[s * m.before + (m.map[u] ?? 0)] ?? 0;
  return { shape: [...w.shape.slice(0, -1), after], data };
}

/** `replicateLast` with the copies' entries zeroed (an importance: the copies were not there before). */
function replicateImportance(w: HostWeight, m: UnitMap): HostWeight {
  const r = replicateLast(w, m);
  const after = m.map.length;
  for (let i = 0; i < r.data.length; i++) if (i % after >= m.before) r.data[i] = 0;
  return r;
}

/**
 * A consumer kernel seen as `[S, before, out]` (dense: S = 1, or the positions of a flatten; conv2d:
 * kh·kw) → `shape` = `[S, after, out]`: row u takes old row `map[u]` times `scale(u, map[u])`.
 */
function spreadRows(w: HostWeight, m: UnitMap, shape: number[], scale: (u: number, j: number) => number): HostWeight {
  const after = m.map.length;
  const out = w.shape[w.shape.length - 1] ?? 1;
  const outer = w.data.length / (m.before * out);
  const data = new Float32Array(outer * after * out);
  for (let s = 0; s < outer; s++) {
    for (let u = 0; u < after; u++) {
      const j = m.map[u] ?? 0;
      const f = scale(u, j);
      for (let c = 0; c < out; c++) data[(s * after + u) * out + c] = (w.data[(s * m.before + j) * out + c] ?? 0) * f;
    }
  }
  return { shape, data };
}

/**
 * Net2WiderNet's split: every copy of unit j gets j's outgoing weights divided by j's copy count, plus
 * noise ε on copies and −Σε on j itself, so the consumer's output is unchanged.
 */
function splitRows(w: HostWeight, m: UnitMap, shape: number[], noise: number, rng: Rng): HostWeight {
  const r = spreadRows(w, m, shape, (_u, j) => 1 / (m.counts[j] ?? 1));
  if (noise === 0) return r;
  const after = m.map.length;
  const out = w.shape[w.shape.length - 1] ?? 1;
  const outer = w.data.length / (m.before * out);
  for (let s = 0; s < outer; s++) {
    for (let u = m.before; u < after; u++) {
      const j = m.map[u] ?? 0;
      for (let c = 0; c < out; c++) {
        const e = noise * rng.normal();
        r.data[(s * after + u) * out + c] = (r.data[(s * after + u) * out + c] ?? 0) + e;
        r.data[(s * after + j) * out + c] = (r.data[(s * after + j) * out + c] ?? 0) - e;
      }
    }
  }
  return r;
}

/** Importance of split rows: an original row's weight was divided by c, so its importance is multiplied by c²; copies get 0. */
function splitImportance(w: HostWeight, m: UnitMap, shape: number[]): HostWeight {
  return spreadRows(w, m, shape, (u, j) => (u < m.before ? (m.counts[j] ?? 1) ** 2 : 0));
}

/**
 * `widen-layer` (Net2WiderNet, Chen et al. 2016): at experience `fromExperience`, gives each named
 * dense (conv2d) layer `units` units (filters). The new units copy existing ones chosen with the run's
 * seeded generator — incoming weights and bias copied, and the per-unit weights of a batch
 * normalisation that follows copied too — and the next dense or conv2d layer's outgoing weights of a
 * unit and its copies are divided by their number, so the network computes the same function (up to
 * float rounding) right after widening. `noise` breaks the copies' symmetry without changing it.
 *
 * Between the widened layer and the next weighted one only activation, dropout, pooling, flatten and
 * batch normalisation may stand. The last layer (the head) cannot be widened — use `grow-head`.
 * Rebuilt layers keep their names; their variables are new, so they start with fresh optimizer slots,
 * while every other variable keeps its slots. Works on any chain model, including a loaded one.
 */
export class WidenLayerAdjustment extends SurgeryAdjustment {
  constructor(private readonly options: Static<typeof WidenLayerOptions>) {
    super(options.fromExperience);
  }

  protected operate(model: EngramModel, ctx: AdjustContext): EngramModel | void {
    const chain = chainOf(model, 'widen-layer');
    const plan = planOf(chain);
    let changed = false;
    for (const name of this.options.layers) {
      const i = chain.findIndex((l) => l.layer.name === name);
      if (i < 0)
        throw new Error(`widen-layer: no layer named "${name}" (layers: ${chain.map((l) => l.layer.name).join(', ')})`);
      changed = this.widen(plan, i, ctx.rng) || changed;
    }
    return changed ? buildPlan(model, plan, ctx.experience.index) : undefined;
  }

  private widen(plan: PlannedLayer[], i: number, rng: Rng): boolean {
    const target = plan[i];
    const cls = target ? plannedClass(target) : '';
    if (cls !== 'Dense' && cls !== 'Conv2D')
      throw new Error(
        `widen-layer: "${this.name(plan, i)}" is a ${cls} layer; only Dense and Conv2D layers can be widened`,
      );
    const units = this.options.units;
    const edited = editLayer(plan, i);
    const [kernel, ...rest] = edited.weights;
    const before = kernel?.shape[kernel.shape.length - 1] ?? 0;
    if (!kernel || before === units) return false;
    if (units < before)
      throw new Error(`widen-layer: "${edited.name}" has ${before} units; it cannot be narrowed to ${units}`);
    const consumer = this.consumerOf(plan, i);
    const m = unitMap(before, units, rng);
    edited.weights = [replicateLast(kernel, m), ...rest.map((b) => replicateLast(b, m))];
    const incoming: WeightMap = { weights: (h) => replicateLast(h, m), importance: (h) => replicateImportance(h, m) };
    edited.weights.forEach((_, k) => addMap(edited, k, incoming));
    edited.overrides[cls === 'Dense' ? 'units' : 'filters'] = units;
    for (let j = i + 1; j < consumer; j++) {
      const p = plan[j];
      if (p && plannedClass(p) === 'BatchNormalization') {
        const bn = editLayer(plan, j);
        bn.weights = bn.weights.map((w) => replicateLast(w, m));
        bn.weights.forEach((_, k) => addMap(bn, k, incoming));
      }
    }
    const next = editLayer(plan, consumer);
    const [k, ...others] = next.weights;
    if (!k) throw new Error(`widen-layer: "${next.name}" has no kernel`);
    const conv = plannedClass(next) === 'Conv2D';
    const widened = (h: HostWeight): number[] => {
      const out = h.shape[h.shape.length - 1] ?? 1;
      return conv ? [...h.shape.slice(0, -2), units, out] : [(h.data.length / (before * out)) * units, out];
    };
    if (k.data.length % (before * (k.shape[k.shape.length - 1] ?? 1)) !== 0)
      throw new Error(
        `widen-layer: "${next.name}"'s kernel ${JSON.stringify(k.shape)} does not follow "${edited.name}"'s ${before} units`,
      );
    next.weights = [splitRows(k, m, widened(k), this.options.noise, rng), ...others];
    addMap(next, 0, {
      weights: (h) => splitRows(h, m, widened(h), 0, rng),
      importance: (h) => splitImportance(h, m, widened(h)),
    });
    return true;
  }

  /** Index of the dense/conv2d layer reading the widened one's units, through pass-through layers. */
  private consumerOf(plan: readonly PlannedLayer[], i: number): number {
    for (let j = i + 1; j < plan.length; j++) {
      const p = plan[j];
      const cls = p ? plannedClass(p) : '';
      if (cls === 'Dense' || cls === 'Conv2D') return j;
      if (!PASS_THROUGH.has(cls) && cls !== 'BatchNormalization') {
        throw new Error(
          `widen-layer: cannot carry the widening of "${this.name(plan, i)}" through layer "${this.name(plan, j)}" (${cls})`,
        );
      }
    }
    throw new Error(
      `widen-layer: "${this.name(plan, i)}" is the model's output layer; widening it would change the classes — use grow-head`,
    );
  }

  private name(plan: readonly PlannedLayer[], i: number): string {
    const p = plan[i];
    return p ? ('keep' in p ? p.keep.name : p.name) : String(i);
  }
}
