import { compile, type TopLevelSpec } from 'vega-lite';
import { View, parse } from 'vega';

/**
 * A Vega-Lite spec as an SVG string, rendered in Node (Vega's headless View, renderer 'none'):
 * no browser, no canvas, no network. Element ids get `idPrefix` so several charts can sit inline
 * in one page without their clip paths colliding.
 */
export async function renderSvg(spec: TopLevelSpec, idPrefix: string): Promise<string> {
  const vg = compile(spec).spec;
  // Data is inline; a loader that refuses every URL keeps rendering off the network.
  const view = new View(parse(vg), { renderer: 'none', loader: { load: () => Promise.reject(new Error('report charts load nothing')), sanitize: () => Promise.reject(new Error('report charts load nothing')) } as never });
  try {
    const svg = await view.toSVG();
    return svg
      .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${idPrefix}-${id}"`)
      .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${idPrefix}-${id})`)
      .replace(/href="#([^"]+)"/g, (_m, id: string) => `href="#${idPrefix}-${id}"`);
  } finally {
    view.finalize();
  }
}
