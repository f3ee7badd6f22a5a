import { parse, View, type Spec } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Shared look of every chart: white background, readable fonts, no interactive actions. */
export const CHART_CONFIG = {
  background: 'white',
  font: 'system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif',
  axis: {
    labelFontSize: 12,
    titleFontSize: 13,
    titleFontWeight: 'normal',
    titleColor: '#333',
    labelColor: '#333',
    gridColor: '#eaeaea',
  },
  legend: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: 'normal', labelLimit: 320 },
  title: { fontSize: 14, anchor: 'start' },
  view: { stroke: '#ddd' },
} as const;

/** Width a `"container"`-wide chart gets when drawn without a page (the static SVG). */
const STATIC_WIDTH = 900;

/** Compiles a vega-lite spec, with {@link CHART_CONFIG}, to the vega spec the page's View runs. */
export function toVegaSpec(spec: TopLevelSpec): Spec {
  return compile({ ...spec, config: { ...CHART_CONFIG, ...(spec.config ?? {}) } }).spec;
}

/**
 * Renders a vega-lite spec to a standalone SVG string in Node: vega-lite → vega spec → headless
 * `View` (renderer 'none', no DOM, no canvas) → `toSVG()`. A `"container"` width becomes a fixed
 * one. The view is finalized afterwards so no timers or listeners leak. Throws with the spec's
 * description when vega fails.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const fixed =
    (spec as { width?: unknown }).width === 'container' ? ({ ...spec, width: STATIC_WIDTH } as TopLevelSpec) : spec;
  const view = new View(parse(toVegaSpec(fixed)), { renderer: 'none', logLevel: 0 });
  try {
    return await view.toSVG();
  } catch (err) {
    throw new Error(
      `could not render chart "${spec.description ?? 'unnamed'}": ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  } finally {
    view.finalize();
  }
}
