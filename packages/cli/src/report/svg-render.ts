import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

/** Shared look of every chart: white background, system fonts, no interactive actions. */
export const CHART_CONFIG = {
  background: 'white',
  font: 'Helvetica, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  view: { stroke: '#ddd' },
} as const;

/**
 * Renders a vega-lite spec to a standalone SVG string in Node: vega-lite → vega spec → headless
 * `View` (renderer 'none', no DOM, no canvas) → `toSVG()`. The view is finalized afterwards so no
 * timers or listeners leak. Throws with the spec's description when vega fails.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vegaSpec = compile({ ...spec, config: { ...CHART_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec).spec;
  const view = new View(parse(vegaSpec), { renderer: 'none', logLevel: 0 });
  try {
    return await view.toSVG();
  } catch (err) {
    throw new Error(`could not render chart "${spec.description ?? 'unnamed'}": ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    view.finalize();
  }
}
