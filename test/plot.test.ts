/**
 * `binaryconnect plot`: figures drawn from a reproduce folder of real (tiny) MNIST trainings.
 * The SVGs are parsed back (by resvg's SVG parser), the PNGs decoded (fast-png) and their
 * pixels checked: method colours present, tiles laid out and normalised as the layer says.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { decode } from "fast-png";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createBackend } from "../src/backends/index.js";
import { OptionError, ShapeError } from "../src/core/errors.js";
import { loadMnist } from "../src/data/mnist.js";
import { mnistSplits } from "../src/data/split.js";
import { plotCommand } from "../src/cli/plot.js";
import type { TrainConfig } from "../src/train/config.js";
import { train } from "../src/train/trainer.js";
import { learningCurvesSpec } from "../src/plot/curves.js";
import { featureMosaic, mosaicPng, tilesOf } from "../src/plot/features.js";
import { firstLayerWeights } from "../src/plot/firstLayer.js";
import { histogram } from "../src/plot/histogram.js";
import { plotFolder } from "../src/plot/plot.js";
import { loadPlotting, svgToPng } from "../src/plot/render.js";
import { readRuns } from "../src/plot/runs.js";
import { words } from "./cli-helpers.js";
import { mnistTestConfig } from "./train-config.js";

const HIDDEN = 36;
const config = (mode: TrainConfig["mode"], seed: number): TrainConfig =>
  mnistTestConfig(mode, { hidden: [HIDDEN], epochs: 2, seed });

/** RGB triples of an 8-bit PNG as a set of "r,g,b" strings. */
function colours(png: ReturnType<typeof decode>): Set<string> {
  const out = new Set<string>();
  const c = png.channels;
  for (let i = 0; i < png.data.length; i += c) out.add(`${png.data[i]},${png.data[i + 1]},${png.data[i + 2]}`);
  return out;
}

/** Parses an SVG with resvg (an error on malformed SVG) and returns its size. */
function parseSvg(path: string): { width: number; height: number; text: string } {
  const text = readFileSync(path, "utf8");
  const parsed = new Resvg(text);
  return { width: parsed.width, height: parsed.height, text };
}

describe("binaryconnect plot", () => {
  let dir: string;
  const lines: string[] = [];
  let files: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "bc-plot-"));
    const backend = await createBackend("wasm", { threads: 1 });
    try {
      const data = mnistSplits(await loadMnist(), { limit: { train: 1000, validation: 500, test: 500 } });
      for (const [method, mode, seed] of [
        ["det", "det", 1],
        ["det", "det", 2],
        ["none", "none", 1],
      ] as const) {
        const result = await train({
          config: config(mode, seed),
          backend,
          data,
          outDir: join(dir, "runs", `${method}-seed${seed}`),
        });
        result.model.dispose();
      }
    } finally {
      await backend.close();
    }
    // A run in progress: one epoch done, the second line half written, no checkpoint yet.
    const partial = join(dir, "runs", "stoch-seed1");
    mkdirSync(partial);
    writeFileSync(join(partial, "config.json"), JSON.stringify(config("stoch", 1)));
    const first = readFileSync(join(dir, "runs", "det-seed1", "metrics.jsonl"), "utf8").split("\n")[0];
    writeFileSync(join(partial, "metrics.jsonl"), `${first}\n{"epoch":2,"train_lo`);
    mkdirSync(join(dir, "runs", "not-a-run")); // no metrics.jsonl: ignored
    files = await plotFolder({ dir, log: (l) => lines.push(l) });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads the runs in the paper's order, the in-progress one included", () => {
    const input = readRuns(dir);
    expect(input.dataset).toBe("mnist");
    expect(input.methods).toEqual(["none", "det", "stoch"]);
    expect(input.runs.map((r) => `${r.method}-${r.seed}:${r.records.length}`)).toEqual([
      ...words("none-1:2 det-1:2 det-2:2 stoch-1:1"),
    ]);
    expect(input.labels.det).toBe("BinaryConnect (det.)");
    // results.json (written by reproduce) names the dataset and the labels where present
    writeFileSync(
      join(dir, "results.json"),
      JSON.stringify({ dataset: "mnist", budget: "test", methods: [{ method: "none", label: "Real weights" }] }),
    );
    try {
      expect(readRuns(dir).labels).toEqual({
        none: "Real weights",
        det: "BinaryConnect (det.)",
        stoch: "BinaryConnect (stoch.)",
      });
    } finally {
      rmSync(join(dir, "results.json"));
    }
  });

  it("leaves epochs whose training cost is exactly 0 out of the log panel and says so", () => {
    const input = readRuns(dir);
    input.runs[0].records[0] = { ...input.runs[0].records[0], train_loss: 0 };
    const spec = learningCurvesSpec(input) as unknown as {
      title: { subtitle: string[] };
      hconcat: { transform: { filter: string }[] }[];
    };
    expect(spec.title.subtitle).toContain("training cost exactly 0 in 1 epochs: not drawn on its log axis");
    expect(spec.hconcat.map((p) => p.transform[0].filter)).toEqual(["datum.train_loss > 0", "datum.val_error > 0"]);
    expect((learningCurvesSpec(readRuns(dir)) as unknown as typeof spec).title.subtitle.join(" ")).not.toContain(
      "exactly 0",
    );
  });

  it("puts a validation error of 0 on a linear axis; own data's figures name its file", () => {
    const input = readRuns(dir);
    input.runs[0].records[1] = { ...input.runs[0].records[1], val_error: 0 };
    input.runs[0].config = {
      ...input.runs[0].config,
      source: { train: "/data/pets/train", validation: 0.1, preprocess: [] },
    };
    const spec = learningCurvesSpec(input) as unknown as {
      title: { text: string; subtitle: string[] };
      hconcat: { transform: unknown[]; layer: { encoding: { y: { title?: string; scale: { type: string } } } }[] }[];
    };
    expect(spec.title.text).toBe("Learning curves, pets/train");
    expect(spec.title.subtitle).toContain("validation error 0 in some epochs: its axis is linear");
    const [cost, validation] = spec.hconcat;
    expect(cost.layer.at(-1)!.encoding.y.scale.type).toBe("log");
    expect(validation.layer.at(-1)!.encoding.y).toMatchObject({
      title: "validation error (%)",
      scale: { type: "linear" },
    });
    expect(validation.transform).toEqual([]); // every epoch drawn
  });

  it("writes every figure as SVG and PNG and prints each file", () => {
    const figures = join(dir, "figures");
    const names = ["learning-curves", "weight-histogram", "features-none", "features-det"];
    expect(files.sort()).toEqual(names.flatMap((n) => [join(figures, `${n}.png`), join(figures, `${n}.svg`)]).sort());
    for (const f of files) {
      expect(existsSync(f)).toBe(true);
      expect(lines).toContain(`wrote ${f}`);
    }
    expect(lines).toContain("stoch: no checkpoint yet, left out of the first-layer figures");
  });

  it("the SVGs parse and carry the axis titles and the method labels", () => {
    const curves = parseSvg(join(dir, "figures", "learning-curves.svg"));
    expect(curves.width).toBeGreaterThan(600);
    for (const s of [
      "Learning curves, MNIST",
      "epoch",
      "training cost",
      "validation error (%",
      "No regularizer",
      "BinaryConnect (det.)",
      "BinaryConnect (stoch.)",
      "in progress: stoch-seed1 1/2",
    ]) {
      expect(curves.text).toContain(s);
    }
    const hist = parseSvg(join(dir, "figures", "weight-histogram.svg"));
    for (const s of [
      "First-layer weights, MNIST",
      "weight",
      "count",
      "No regularizer",
      "BinaryConnect (det.)",
      `dense0.W [784x${HIDDEN}]`,
    ])
      expect(hist.text).toContain(s);
    expect(hist.text).not.toContain("BinaryConnect (stoch.)");
    const features = parseSvg(join(dir, "figures", "features-det.svg"));
    expect(features.text).toContain("First-layer features: BinaryConnect (det.), MNIST");
    expect(features.text).toContain(`the first ${HIDDEN} of ${HIDDEN} units`);
    expect(features.text).toMatch(/<image[^>]*href="data:image\/png;base64,/);
  });

  it("the PNGs decode at twice the SVG size and show the methods' colours", () => {
    for (const name of ["learning-curves", "weight-histogram", "features-det"]) {
      const svg = parseSvg(join(dir, "figures", `${name}.svg`));
      const png = decode(readFileSync(join(dir, "figures", `${name}.png`)));
      // resvg rounds a fractional SVG size (the title's width is estimated in fractions of a unit)
      expect(Math.abs(png.width - 2 * svg.width), name).toBeLessThanOrEqual(1);
      expect(Math.abs(png.height - 2 * svg.height), name).toBeLessThanOrEqual(1);
      expect(png.width).toBeGreaterThan(500);
      expect(png.width).toBeLessThan(4000);
      expect(colours(png).size, name).toBeGreaterThan(20);
    }
    const curves = colours(decode(readFileSync(join(dir, "figures", "learning-curves.png"))));
    for (const rgb of ["31,119,180", "85,85,85", "214,39,40"]) expect(curves, rgb).toContain(rgb); // det, none, stoch lines
    const hist = colours(decode(readFileSync(join(dir, "figures", "weight-histogram.png"))));
    for (const rgb of ["31,119,180", "85,85,85"]) expect(hist, rgb).toContain(rgb);
  });

  it("PNG text is drawn (a font is found)", async () => {
    const { Resvg } = await loadPlotting();
    const png = decode(
      svgToPng(
        '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40"><rect width="120" height="40" fill="white"/><text x="5" y="28" font-size="24" font-family="sans-serif">epoch</text></svg>',
        Resvg,
      ),
    );
    let dark = 0;
    for (let i = 0; i < png.data.length; i += png.channels) if (png.data[i] < 128) dark++;
    expect(dark, "no text pixels: install a font (fonts-dejavu-core, scripts/install-test-deps.sh)").toBeGreaterThan(
      50,
    );
  });

  it("the features mosaic has one min-max normalised 28x28 tile per unit, W[pixel, unit] laid out row by row", () => {
    const layer = firstLayerWeights(readRuns(dir).runs.find((r) => r.method === "det")!)!;
    expect(layer.weights.name).toBe("dense0.W");
    expect(layer.weights.shape).toEqual([784, HIDDEN]);
    const m = featureMosaic(tilesOf(layer.weights, "mnist"));
    expect([m.tiles, m.cols, m.rows]).toEqual([HIDDEN, 6, 6]);
    const tile = 28 * m.scale;
    expect([m.width, m.height]).toEqual([6 * tile + 5 * m.gap, 6 * tile + 5 * m.gap]);
    const png = decode(mosaicPng(m));
    expect([png.width, png.height]).toEqual([m.width, m.height]);
    const px = (x: number, y: number) => png.data[(y * png.width + x) * png.channels];
    for (let y = 0; y < m.height; y++) expect(px(tile, y)).toBe(255); // the gap after the first column
    const w = layer.weights.data;
    for (const u of [0, 7, HIDDEN - 1]) {
      const left = (u % 6) * (tile + m.gap),
        top = Math.floor(u / 6) * (tile + m.gap);
      const column = Array.from({ length: 784 }, (_, i) => w[i * HIDDEN + u]);
      const lo = Math.min(...column),
        hi = Math.max(...column);
      for (const [y, x] of [
        [0, 0],
        [14, 3],
        [27, 27],
        [5, 20],
      ]) {
        const expected = Math.round((255 * (w[(y * 28 + x) * HIDDEN + u] - lo)) / (hi - lo));
        expect(px(left + x * m.scale, top + y * m.scale)).toBe(expected);
      }
    }
  });

  it("a conv first layer [kh, kw, 3, Cout] gives Cout RGB tiles of kh x kw", () => {
    const shape = [3, 3, 3, 8];
    const data = new Float32Array(3 * 3 * 3 * 8).map((_, i) => Math.sin(i * 1.7));
    const src = tilesOf({ name: "conv0.W", shape, data }, "cifar10");
    expect([src.count, src.h, src.w, src.c]).toEqual([8, 3, 3, 3]);
    expect(src.value(5, 2, 1, 2)).toBe(data[((2 * 3 + 1) * 3 + 2) * 8 + 5]);
    const m = featureMosaic(src);
    expect([m.tiles, m.cols, m.rows]).toEqual([8, 3, 3]);
    const png = decode(mosaicPng(m));
    const [r, g, b] = Array.from(png.data.subarray(0, 3));
    expect(r === g && g === b).toBe(false); // colour, not grayscale
    expect(() => tilesOf({ name: "dense0.W", shape: [100, 4], data: new Float32Array(400) }, "mnist")).toThrow(
      ShapeError,
    );
  });

  it("histogram bins cover [min, max] and count every value", () => {
    const bins = histogram(new Float32Array([-1, -1, 0, 0.5, 1]), 4);
    expect(bins.map((b) => b.count)).toEqual([2, 0, 1, 2]);
    expect([bins[0].x0, bins[3].x1]).toEqual([-1, 1]);
  });

  it("the command writes into --out; a folder without runs is an OptionError with a hint", async () => {
    const out = join(dir, "other");
    const log = vi.spyOn(console, "log").mockImplementation(() => {});
    try {
      await plotCommand().exitOverride().parseAsync([dir, "--out", out], { from: "user" });
      expect(log).toHaveBeenCalledWith(`wrote ${join(out, "learning-curves.png")}`);
    } finally {
      log.mockRestore();
    }
    expect(existsSync(join(out, "features-det.png"))).toBe(true);
    const empty = join(dir, "empty");
    mkdirSync(join(empty, "runs"), { recursive: true });
    await expect(plotFolder({ dir: empty })).rejects.toThrow(OptionError);
    await expect(plotFolder({ dir: empty })).rejects.toThrow(
      /no runs to plot[\s\S]*hint: run `binaryconnect reproduce`/,
    );
  });

  it("without the optional plotting libraries, plot says which are missing and how to install them", async () => {
    const { UsageError } = await import("../src/core/errors.js");
    const noVega = (name: string) =>
      name === "vega-lite" ? Promise.reject(new Error("Cannot find package 'vega-lite'")) : import(name);
    await expect(loadPlotting(noVega)).rejects.toThrow(UsageError);
    await expect(loadPlotting(noVega)).rejects.toThrow(
      /optional and not installed: vega-lite[\s\S]*hint: install them beside binaryconnect: npm install vega vega-lite @resvg\/resvg-js/,
    );
  });
});
