import { resolveSimd } from "../src/backends/wasm/simd.js";
import { classesOf } from "../src/format/bcnet.js";
import { INFER_CNN_ARCHITECTURE, INFER_CNN_IMAGES, inferCnnNetwork } from "./infer-cnn.js";
import { floatRunner, inferNetwork, ortRunner, ourRunner, type InferNetwork, type InferRunner } from "./infer-net.js";
import type { BenchOptions } from "./options.js";
import { comparison, figure, type Row } from "./report.js";
import { PeerUnavailable } from "./runner.js";
import { tfjsInferRunner } from "./peers/tfjs-infer.js";
import { MLP_SPEC } from "./spec.js";
import { timeInterleaved, type Timing } from "./stats.js";
import { describeError, type Log, type SuiteOutput } from "./suite.js";

/** The targets for binaryconnect/infer: >= 3x our float32 forward, >= 2x onnxruntime-web. */
export const INFER_GOAL_VS_FLOAT = 3;
export const INFER_GOAL_VS_ORT_WEB = 2;
export const INFER_BATCHES = [1, 200] as const;
/** Batches of the CNN (cifar10-small): one image, and the CNN presets' batch. */
export const INFER_CNN_BATCHES = [1, INFER_CNN_IMAGES] as const;
/** Every engine's scores must agree with ours to |a - b| <= ATOL + RTOL |b|, and give the same classes. */
const ATOL = 1e-3,
  RTOL = 1e-4;
const UNIT = "images/s";

interface Measured {
  runner: InferRunner;
  timing: Map<number, Timing>;
  scores: Float32Array;
}

/**
 * Inference of the MNIST MLP (infer-net.ts) at batch 1 and 200, one thread each:
 * binaryconnect/infer (the packed 1-bit lookup-table kernel) against our float32 wasm forward
 * pass of the same network, onnxruntime-web (WASM) and onnxruntime-node (native CPU) running the
 * exported ONNX graph; then a check that every engine computes the same scores. With
 * `infer-cnn`, the same for cifar10-small's CNN (infer-cnn.ts) against onnxruntime-node,
 * onnxruntime-web and tfjs-wasm.
 */
export async function runInferSuite(opts: BenchOptions, log: Log): Promise<SuiteOutput> {
  const mlp = opts.only.some((b) => INFER_ONLY_MLP.includes(b)) ? await runMlp(opts, log) : { rows: [], problems: [] };
  const cnn = opts.only.includes("infer-cnn") ? await runCnn(opts, log) : { rows: [], problems: [] };
  return { rows: [...mlp.rows, ...cnn.rows], problems: [...mlp.problems, ...cnn.problems] };
}

const INFER_ONLY_MLP: readonly string[] = ["infer", "ort-web", "ort-node"];

/** The CNN goals: >= 2x onnxruntime-web, >= 1x onnxruntime-node (no goal against tfjs). */
export const INFER_CNN_GOAL_VS_ORT_WEB = 2;
export const INFER_CNN_GOAL_VS_ORT_NODE = 1;

/**
 * cifar10-small's CNN (32x32x3, random weights): the 1-bit engine against onnxruntime-node,
 * onnxruntime-web and tfjs-wasm at batch 1 and 50, one thread each, timed side by side.
 */
async function runCnn(opts: BenchOptions, log: Log): Promise<SuiteOutput> {
  const net = inferCnnNetwork();
  return compareEngines(
    {
      prefix: "infer-cnn",
      net,
      batches: INFER_CNN_BATCHES,
      engines: [
        ["binaryconnect/infer", () => ourRunner(net)],
        ["onnxruntime-node", () => ortRunner(net, "node")],
        ["onnxruntime-web", () => ortRunner(net, "web")],
        ["tfjs-wasm", () => tfjsInferRunner(net)],
      ],
      note: (r) => `${INFER_CNN_ARCHITECTURE} on 32x32x3; ${r.description}`,
      goal: (peer) =>
        peer.startsWith("onnxruntime-web")
          ? INFER_CNN_GOAL_VS_ORT_WEB
          : peer.startsWith("onnxruntime-node")
            ? INFER_CNN_GOAL_VS_ORT_NODE
            : null,
    },
    opts,
    log,
  );
}

async function runMlp(opts: BenchOptions, log: Log): Promise<SuiteOutput> {
  const net = inferNetwork(MLP_SPEC);
  const engines: Engine[] = [];
  if (opts.only.includes("infer")) {
    engines.push(["binaryconnect/infer", () => ourRunner(net)]);
    // the float32 forward in both builds: the 3x goal was set against SIMD128's; relaxed FMA's is faster
    engines.push(["float32 wasm forward (SIMD128)", () => floatRunner(net, MLP_SPEC, 1, "baseline")]);
    if ((await resolveSimd(opts.simd)) === "relaxed")
      engines.push(["float32 wasm forward (relaxed FMA)", () => floatRunner(net, MLP_SPEC, 1, "relaxed")]);
  }
  if (opts.only.includes("ort-web")) engines.push(["onnxruntime-web", () => ortRunner(net, "web")]);
  if (opts.only.includes("ort-node")) engines.push(["onnxruntime-node", () => ortRunner(net, "node")]);
  return compareEngines(
    {
      prefix: "infer",
      net,
      batches: INFER_BATCHES,
      engines,
      note: (r) => r.description,
      goal: (peer) =>
        peer.startsWith("float32")
          ? INFER_GOAL_VS_FLOAT
          : peer.startsWith("onnxruntime-web")
            ? INFER_GOAL_VS_ORT_WEB
            : null,
    },
    opts,
    log,
  );
}

/** An engine to time: its label (for the log and a failure) and how to create its runner. */
type Engine = readonly [label: string, create: () => Promise<InferRunner>];

/** One network's comparison of inference engines (runMlp's and runCnn's). */
interface EngineComparison {
  /** The rows' prefix ("infer", "infer-cnn"). */
  prefix: string;
  net: InferNetwork;
  batches: readonly number[];
  /** In order; the one named binaryconnect/infer is ours, the others are compared with it. */
  engines: readonly Engine[];
  /** The note of an engine's batch-1 row. */
  note: (runner: InferRunner) => string;
  /** Our goal against a peer (runner name), in times its images/s; null for none. */
  goal: (peer: string) => number | null;
}

/**
 * Creates the engines (a missing one becomes a "not available" row), times them side by side
 * at each batch, reports each one's images/s and ours against each other's (with the goals),
 * then checks that every engine computes our scores.
 */
async function compareEngines(c: EngineComparison, opts: BenchOptions, log: Log): Promise<SuiteOutput> {
  const { prefix, net } = c;
  const rows: Row[] = [],
    problems: string[] = [],
    ready: Ready[] = [];
  for (const [label, create] of c.engines) {
    log(`${prefix}: ${label}`);
    const r = await prepare(label, create, net);
    if ("runner" in r) ready.push(r);
    else if (r.unavailable)
      rows.push({ name: `${prefix} ${r.unavailable.peer}`, value: null, unit: UNIT, note: r.unavailable.note });
    else problems.push(`${prefix} ${r.problem}`);
  }
  log(`${prefix}: timing ${ready.map((r) => r.runner.name).join(", ")} side by side`);
  const measured = await measureTogether(ready, opts, c.batches);
  const ours = measured.find((m) => m.runner.name.startsWith("binaryconnect/infer"));
  const peers = measured.filter((m) => m !== ours);
  for (const batch of c.batches) {
    for (const m of measured) {
      const t = m.timing.get(batch)!;
      rows.push(
        figure(
          `${prefix} b${batch} ${m.runner.name}`,
          UNIT,
          batch / t.median,
          batch / t.min,
          batch === 1 ? { note: c.note(m.runner) } : {},
        ),
      );
    }
    if (!ours) continue;
    for (const peer of peers) {
      const value = batch / ours.timing.get(batch)!.median,
        rate = batch / peer.timing.get(batch)!.median;
      const goal = c.goal(peer.runner.name);
      rows.push(
        comparison(
          `${prefix} b${batch} 1-bit LUT vs ${peer.runner.name}`,
          UNIT,
          value,
          peer.runner.name,
          rate,
          goal === null ? {} : { goal: `>= ${goal}x`, goalMet: value / rate >= goal },
        ),
      );
    }
  }
  if (ours)
    for (const peer of peers) {
      const check = agreement(peer.scores, ours.scores, classesOf(net.model));
      rows.push({
        name: `${prefix} scores ${peer.runner.name} vs 1-bit LUT`,
        value: check.maxAbs,
        unit: "max |difference|",
        goal: `<= ${ATOL} + ${RTOL}|x|, same classes`,
        goalMet: check.ok,
      });
      if (!check.ok)
        problems.push(
          `${prefix}: ${peer.runner.name} does not compute the network of binaryconnect/infer (max |diff| ${check.maxAbs}, ${check.classDiffs} classes differ)`,
        );
    }
  return { rows, problems };
}

interface Ready {
  runner: InferRunner;
  /** Its scores for every image of the network (checked against ours). */
  scores: Float32Array;
}

/** Creates a runner and checks that it runs (its scores of every image); or why it cannot. */
async function prepare(
  label: string,
  create: () => Promise<InferRunner>,
  net: InferNetwork,
): Promise<Ready | { unavailable?: PeerUnavailable; problem?: string }> {
  let runner: InferRunner | undefined;
  try {
    runner = await create();
    return { runner, scores: await runner.predict(net.pixels.length / net.model.inputs) };
  } catch (e) {
    await runner?.close();
    if (e instanceof PeerUnavailable) return { unavailable: e };
    return { problem: `${label}: ${describeError(e)}` };
  }
}

/** Times every runner at each batch size, their runs interleaved (stats.ts timeInterleaved); closes them. */
async function measureTogether(ready: Ready[], opts: BenchOptions, batches: readonly number[]): Promise<Measured[]> {
  try {
    const measured: Measured[] = ready.map((r) => ({ ...r, timing: new Map<number, Timing>() }));
    for (const batch of batches) {
      const timings = await timeInterleaved(
        ready.map((r) => () => r.runner.predict(batch)),
        opts.timing,
      );
      timings.forEach((t, k) => {
        measured[k].timing.set(batch, t);
      });
    }
    return measured;
  } finally {
    for (const r of ready) await r.runner.close();
  }
}

function agreement(
  got: Float32Array,
  want: Float32Array,
  classes: number,
): { ok: boolean; maxAbs: number; classDiffs: number } {
  let maxAbs = 0,
    within = got.length === want.length,
    classDiffs = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    maxAbs = Math.max(maxAbs, d);
    if (!(d <= ATOL + RTOL * Math.abs(want[i]))) within = false;
  }
  const argmax = (s: Float32Array, m: number) => {
    let b = 0;
    for (let k = 1; k < classes; k++) if (s[m * classes + k] > s[m * classes + b]) b = k;
    return b;
  };
  for (let m = 0; m < want.length / classes; m++) if (argmax(got, m) !== argmax(want, m)) classDiffs++;
  return { ok: within && classDiffs === 0, maxAbs, classDiffs };
}
