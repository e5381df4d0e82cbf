import type { TopLevelSpec } from "vega-lite";
import type { PlotInput } from "./runs.js";

/** Display names of the datasets, as the paper writes them. */
export const DATASET_TITLES: Record<string, string> = { mnist: "MNIST", cifar10: "CIFAR-10", svhn: "SVHN" };

/** The data a figure names in its title: the paper's dataset, or own data's file or folder name. */
export function dataTitle(input: Pick<PlotInput, "dataset" | "runs">): string {
  const source = input.runs.find((r) => r.config.source)?.config.source;
  if (source) return source.train.split(/[\\/]/).filter(Boolean).slice(-2).join("/");
  return DATASET_TITLES[input.dataset] ?? input.dataset;
}

/** A fixed colour per method, so every figure of a folder agrees. */
const METHOD_COLORS: Record<string, string> = { none: "#555555", det: "#1f77b4", stoch: "#d62728", dropout: "#2ca02c" };
const OTHER_COLORS = ["#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];

/** The colour scale of the methods of `input` (domain: their labels, in display order). */
export function methodColorScale(input: PlotInput): { domain: string[]; range: string[] } {
  let other = 0;
  return {
    domain: input.methods.map((m) => input.labels[m]),
    range: input.methods.map((m) => METHOD_COLORS[m] ?? OTHER_COLORS[other++ % OTHER_COLORS.length]),
  };
}

/**
 * Paper Fig. 3: training cost and validation error (%) per epoch, one panel each, side by
 * side. One bold line per method, the mean over its seeds at each epoch; with several seeds,
 * each seed is also drawn as a thin faint line. Both y axes are logarithmic (late epochs
 * differ by fractions of a percent); values of 0 (a training cost of exactly 0: every margin
 * met) are left out, and the subtitle says in how many epochs.
 */
export function learningCurvesSpec(input: PlotInput): TopLevelSpec {
  const rows = input.runs.flatMap((r) =>
    r.records.map((rec) => ({
      method: input.labels[r.method],
      seed: r.seed,
      epoch: rec.epoch,
      train_loss: rec.train_loss,
      val_error: 100 * rec.val_error,
    })),
  );
  const seedsPerMethod = Math.max(...input.methods.map((m) => input.runs.filter((r) => r.method === m).length));
  const maxEpoch = Math.max(1, ...rows.map((r) => r.epoch));
  const legend = {
    orient: "bottom",
    direction: "horizontal",
    symbolType: "stroke",
    symbolStrokeWidth: 3,
    symbolOpacity: 1,
    symbolSize: 300,
  } as const;
  const color = { field: "method", type: "nominal", title: null, scale: methodColorScale(input), legend } as const;
  const x = {
    field: "epoch",
    type: "quantitative" as const,
    title: "epoch",
    scale: { domain: [maxEpoch > 1 ? 1 : 0, maxEpoch] },
    axis: { tickMinStep: 1 },
  };
  // a log axis cannot show 0: the epochs whose training cost is exactly 0 (every margin met) are
  // left out of its panel; a validation error of 0 (small data sets) puts its panel on a linear axis
  const zeroError = rows.some((r) => !(r.val_error > 0));
  const panel = (field: string, title: string, log = true) => ({
    width: 380,
    height: 280,
    transform: log ? [{ filter: `datum.${field} > 0` }] : [],
    layer: [
      ...(seedsPerMethod > 1
        ? [
            {
              mark: { type: "line", strokeWidth: 1, opacity: 0.35 },
              encoding: {
                x,
                y: { field, type: "quantitative", scale: { type: log ? "log" : "linear" } },
                color,
                detail: { field: "seed", type: "nominal" },
              },
            },
          ]
        : []),
      {
        mark: { type: "line", strokeWidth: 2.5, point: maxEpoch <= 20 },
        encoding: {
          x,
          y: { aggregate: "mean", field, type: "quantitative", title, scale: { type: log ? "log" : "linear" } },
          color,
        },
      },
    ],
  });
  const incomplete = input.runs.filter((r) => r.records.length < r.config.epochs);
  const zeroCost = rows.filter((r) => !(r.train_loss > 0)).length;
  const subtitle = [
    seedsPerMethod > 1
      ? `bold: mean over seeds (${seedsPerMethod} per method at most); thin: each seed`
      : "one seed per method",
    ...(zeroCost > 0 ? [`training cost exactly 0 in ${zeroCost} epochs: not drawn on its log axis`] : []),
    ...(zeroError ? ["validation error 0 in some epochs: its axis is linear"] : []),
    ...(incomplete.length
      ? [
          `in progress: ${incomplete.map((r) => `${r.method}-seed${r.seed} ${r.records.length}/${r.config.epochs}`).join(", ")} epochs`,
        ]
      : []),
  ];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: `Learning curves, ${dataTitle(input)}`, subtitle },
    data: { values: rows },
    hconcat: [
      panel("train_loss", "training cost (square hinge loss, log)"),
      zeroError ? panel("val_error", "validation error (%)", false) : panel("val_error", "validation error (%, log)"),
    ],
    resolve: { scale: { color: "shared" } },
  } as TopLevelSpec;
}
