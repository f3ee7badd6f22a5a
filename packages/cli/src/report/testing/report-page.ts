/** Test support: reads the figures of a report page back (id, compiled vega spec, static SVG, data). */

/** One `<figure class="chart">` of a page. */
export interface PageFigure {
  id: string;
  html: string;
  /** The compiled vega spec the page draws. */
  spec: { data?: Array<{ name: string; values?: Array<Record<string, unknown>> }>; marks?: unknown[] };
  /** The static SVG (`<noscript>`). */
  svg: string;
}

/** The figures of a report page, in page order. */
export function figures(html: string): PageFigure[] {
  return [...html.matchAll(/<figure class="chart[^"]*" data-chart="([^"]+)"[^>]*>([\s\S]*?)<\/figure>/g)].map((m) => {
    const body = m[2] ?? '';
    const json =
      /<script type="application\/json" class="vega-spec"[^>]*>([\s\S]*?)<\/script>/.exec(body)?.[1] ?? 'null';
    return {
      id: m[1] ?? '',
      html: body,
      spec: JSON.parse(json) as PageFigure['spec'],
      svg: /<noscript>([\s\S]*?)<\/noscript>/.exec(body)?.[1] ?? '',
    };
  });
}

/** The figure with `id` (throws when absent). */
export function figure(html: string, id: string): PageFigure {
  const f = figures(html).find((x) => x.id === id);
  if (f === undefined) throw new Error(`no figure ${id}`);
  return f;
}

/** Every inline data row of a compiled spec (all its data sets). */
export function rows(f: PageFigure): Array<Record<string, unknown>> {
  return (f.spec.data ?? []).flatMap((d) => d.values ?? []);
}

/** Number of marks of a kind in the static SVG (`line mark`, `rect mark`, `rule mark`, `bar`). */
export function svgMarks(f: PageFigure, role: string): number {
  return [...f.svg.matchAll(new RegExp(`aria-roledescription="${role}"`, 'g'))].length;
}

/** The KPI cards of a page as label → value. */
export function kpiCards(html: string): Map<string, string> {
  return new Map(
    [...html.matchAll(/<div class="kpi"[^>]*><span>([^<]*)<\/span><b>([^<]*)<\/b><\/div>/g)].map((m) => [
      m[1] ?? '',
      m[2] ?? '',
    ]),
  );
}
