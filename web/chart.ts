/**
 * The page's loss chart: an SVG line of each step's loss and the running mean.
 *
 * @module
 */

/**
 * An SVG line chart of per-step losses and their running mean over `window` steps.
 *
 * @param values each step's loss
 * @param window the running mean's width in steps
 * @returns the SVG's markup
 * @example
 * ```ts
 * import { lossChartSvg } from "./chart.ts";
 * import assert from "node:assert/strict";
 * const svg = lossChartSvg([3, 2, 1]);
 * assert(svg.startsWith("<svg") && svg.includes("<polyline"));
 * assert.equal(lossChartSvg([]), "");
 * ```
 */
export function lossChartSvg(values: readonly number[], window = 10): string {
  if (values.length === 0) return "";
  const [w, h, left, right, top, bottom] = [640, 240, 56, 16, 16, 40];
  const finite = values.filter(Number.isFinite);
  const yMax = Math.max(...finite, 1e-9);
  const x = (i: number) => left + (i / Math.max(1, values.length - 1)) * (w - left - right);
  const y = (v: number) => top + (1 - Math.min(v, yMax) / yMax) * (h - top - bottom);
  const mean = values.map((_, i) => {
    const last = values.slice(Math.max(0, i - window + 1), i + 1);
    return last.reduce((a, b) => a + b, 0) / last.length;
  });
  const line = (vs: readonly number[], color: string, width: number) =>
    `<polyline fill="none" stroke="${color}" stroke-width="${width}" points="${
      vs.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ")
    }"/>`;
  const yTick = (v: number) =>
    `<line x1="${left}" x2="${w - right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>` +
    `<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(2)}</text>`;
  const xTick = (step: number) =>
    `<text x="${x(step - 1)}" y="${h - bottom + 16}" text-anchor="middle">${step}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    ...[0, 0.25, 0.5, 0.75, 1].map((f) => yTick(f * yMax)),
    ...[...new Set([1, Math.round(values.length / 2) || 1, values.length])].map(xTick),
    `<text x="${(left + w - right) / 2}" y="${h - 6}" text-anchor="middle">step</text>`,
    `<text transform="translate(14 ${
      (top + h - bottom) / 2
    }) rotate(-90)" text-anchor="middle">rank loss</text>`,
    line(values, "#9ecae1", 1),
    line(mean, "#08519c", 2),
    `<text x="${w - right}" y="${
      top + 12
    }" text-anchor="end" fill="#6baed6">each step's batch</text>`,
    `<text x="${w - right}" y="${
      top + 28
    }" text-anchor="end" fill="#08519c">mean of the last ${window} steps</text>`,
    "</svg>",
  ].join("\n");
}
