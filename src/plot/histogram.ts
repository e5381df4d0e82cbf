import { basename } from "node:path";
import type { TopLevelSpec } from "vega-lite";
import { dataTitle, methodColorScale } from "./curves.js";
import type { FirstLayer } from "./firstLayer.js";
import type { PlotInput } from "./runs.js";

/** One bar of a histogram: values in [x0, x1) (the last bin includes its right end). */
export interface Bin {
  x0: number;
  x1: number;
  count: number;
}

/** Equal-width histogram of `values` over [min, max] of the values, `bins` bars. */
export function histogram(values: Float32Array, bins: number): Bin[] {
  let lo = Infinity,
    hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!(hi > lo)) return [{ x0: lo, x1: lo, count: values.length }];
  const width = (hi - lo) / bins;
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / width))]++;
  return counts.map((count, i) => ({ x0: lo + i * width, x1: lo + (i + 1) * width, count }));
}

/** The first layer of one method, with what the panel says about it. */
export interface MethodLayer {
  method: string;
  layer: FirstLayer;
  /** The run's H (binary weights are +-H), or null for real-weight methods. */
  H: number | null;
}

/**
 * Paper Fig. 2: the histogram of the first layer's real-valued weights, one panel per
 * method, each with its own axes. BinaryConnect's weights pile up near +-H (dashed rules);
 * a real-weight network's stay near their small initial values.
 */
export function weightHistogramSpec(input: PlotInput, layers: MethodLayer[], bins = 80): TopLevelSpec {
  const colors = methodColorScale(input);
  const panels = layers.map(({ method, layer, H }) => {
    const label = input.labels[method];
    const color = colors.range[colors.domain.indexOf(label)];
    const { name, shape } = layer.weights;
    const bars = {
      data: { values: histogram(layer.weights.data, bins) },
      mark: { type: "rect", color, stroke: color, strokeWidth: 0.3 },
      encoding: {
        x: {
          field: "x0",
          type: "quantitative",
          title: H === null ? "weight" : "weight (dashed: ±H)",
          scale: { nice: false, zero: false },
        },
        x2: { field: "x1" },
        y: { field: "count", type: "quantitative", title: "count" },
        y2: { datum: 0 },
      },
    };
    const rules =
      H === null
        ? []
        : [
            {
              data: { values: [{ x: -H }, { x: H }] },
              mark: { type: "rule", strokeDash: [4, 3], color: "#333333" },
              encoding: { x: { field: "x", type: "quantitative" } },
            },
          ];
    return {
      title: {
        text: label,
        subtitle: `${name} [${shape.join("x")}], ${basename(layer.source)} (epoch ${layer.epoch})`,
        fontSize: 13,
      },
      width: 240,
      height: 200,
      layer: [bars, ...rules],
    };
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: {
      text: `First-layer weights, ${dataTitle(input)}`,
      subtitle: "histogram of the real-valued weights of the first seed",
    },
    // two panels a row: four methods stay readable on a page
    concat: panels,
    columns: 2,
  } as TopLevelSpec;
}
