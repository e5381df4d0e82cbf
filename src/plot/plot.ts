import { join } from "node:path";
import { isPaperDataset } from "../train/config.js";
import { learningCurvesSpec } from "./curves.js";
import { featureMosaic, featuresSpec, tilesOf } from "./features.js";
import { firstLayerWeights } from "./firstLayer.js";
import { weightHistogramSpec, type MethodLayer } from "./histogram.js";
import { missingFontWarning, renderFigure, writeFigure } from "./render.js";
import { readRuns } from "./runs.js";

export interface PlotOptions {
  /** The reproduce folder (DIR/runs/<method>-seed<k>/...), or one run folder of `binaryconnect train`. */
  dir: string;
  /** Where the figures go (default DIR/figures). */
  out?: string;
  /** Called with each line of progress: every file written, and warnings. */
  log?: (line: string) => void;
}

/**
 * Draws the paper's figures from the runs of a folder, each as SVG and PNG:
 *   learning-curves      training cost and validation error per epoch (Fig. 3);
 *   weight-histogram     the first layer's weights per method (Fig. 2);
 *   features-<method>    the first layer's features per method (Fig. 1).
 * The first-layer figures use each method's first seed (best.bin, else checkpoint.bin);
 * a method whose runs have no checkpoint yet is left out of them. Returns the files written.
 */
export async function plotFolder(options: PlotOptions): Promise<string[]> {
  const { dir, out = join(dir, "figures"), log = () => {} } = options;
  const input = readRuns(dir);
  const warning = missingFontWarning();
  if (warning) log(`warning: ${warning}`);
  const written: string[] = [];
  const save = async (name: string, spec: Parameters<typeof renderFigure>[0]) => {
    for (const path of writeFigure(out, name, await renderFigure(spec))) {
      written.push(path);
      log(`wrote ${path}`);
    }
  };
  await save("learning-curves", learningCurvesSpec(input));
  const layers: MethodLayer[] = [];
  for (const method of input.methods) {
    const run = input.runs.find((r) => r.method === method && r.checkpoint);
    const layer = run && firstLayerWeights(run);
    if (!run || !layer) {
      log(`${method}: no checkpoint yet, left out of the first-layer figures`);
      continue;
    }
    layers.push({ method, layer, H: run.config.mode === "none" ? null : run.config.H });
  }
  if (layers.length > 0) await save("weight-histogram", weightHistogramSpec(input, layers));
  const dataset = input.dataset;
  if (!isPaperDataset(dataset)) {
    if (layers.length > 0)
      log("features: not drawn for a run on data other than the paper's (its examples' layout is not known here)");
    return written;
  }
  for (const { method, layer } of layers) {
    const mosaic = featureMosaic(tilesOf(layer.weights, dataset));
    await save(`features-${method}`, featuresSpec(input.labels[method], dataset, layer, mosaic));
  }
  return written;
}
