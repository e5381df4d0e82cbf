import { WebGpuBackend, type WebGpuBackendOptions } from "../src/backends/webgpu/index.js";
import {
  FORCED_TILES,
  gpuMatmulShapes,
  matmulFlops,
  shapeLabel,
  timeOurMatmul,
  type GpuMatmulShape,
} from "./gpu-matmul.js";
import { CIFAR10_SMALL_NET } from "../src/train/presets.js";
import { parseArchitecture } from "../src/nn/architecture.js";
import { CNN_SPEC, cnnInitialState, type CnnSpec } from "./cnn-spec.js";
import { timeOurCnnEpoch } from "./gpu-cnn-epoch.js";
import { timeOurEpoch, type EpochResult } from "./gpu-epoch.js";
import type { BenchOptions } from "./options.js";
import { runTorchGpu } from "./peers/torch-gpu.js";
import { writeInitFile } from "./peers/torch-mlp.js";
import { comparison, figure, finishReport, fmt, formatTable, type Row } from "./report.js";
import { PeerUnavailable } from "./runner.js";
import { MLP_SPEC, initialState, type MlpSpec } from "./spec.js";
import { summarize, type Timing, type TimingOptions } from "./stats.js";
import { LATER_LOSS_RTOL, LOSS_RTOL } from "./step-suite.js";
import { describeError, type Log } from "./suite.js";

/** The targets: our matmul vs cuBLAS (same card, fp32, TF32 off), and an epoch within 2x of PyTorch's time. */
export const GOAL_MATMUL_BIG = 0.6;
export const GOAL_MATMUL_LAYER = 0.5;
export const GOAL_EPOCH = 0.5;

/**
 * `npm run bench -- --backend webgpu [--quick] [--json FILE]`: the GPU suite, in one call.
 * - matmul: 4096^3 and 200x1024x1024 (three forms) on the webgpu backend, with its defaults and
 *   with each setting changed in turn (MATMUL_VARIANTS), against PyTorch's torch.mm (cuBLAS) on
 *   the same GPU;
 * - mlp-step: one training epoch of the MNIST MLP (50,000 synthetic images, batch 200) against
 *   the same epoch in PyTorch on the same GPU, after checking that both compute the same
 *   network (the losses of the first steps from a shared start);
 * - cnn-step: the same for the CIFAR-10 paper network (batch 50).
 * PyTorch runs as a child process (bench/peers/torch_gpu.py); without it (no Python, torch or
 * CUDA) its rows say "not available". --quick shrinks the sizes so that a software adapter
 * (lavapipe) runs the whole suite in about a minute. Exit code 1 when a measurement failed or
 * the networks disagree.
 */
export async function runGpuBench(opts: BenchOptions): Promise<number> {
  const log: Log = (m) => process.stderr.write(`[bench gpu] ${m}\n`);
  const started = performance.now();
  const be = await WebGpuBackend.create();
  console.log(
    `binaryconnect bench --backend webgpu${opts.quick ? " --quick (small sizes: a smoke run)" : ""}, ${new Date().toISOString()}`,
  );
  console.log(`adapter: ${be.description}; Node ${process.version}`);
  console.log(
    `method: ${opts.timing.warmup} warm-up, ${opts.timing.runs} timed runs; median and best run; each run ends by waiting for the GPU`,
  );
  await be.close();
  const groups: Row[][] = [];
  const problems: string[] = [];
  const notes: string[] = [];
  if (opts.only.includes("matmul")) {
    const out = await matmulSuite(opts, log);
    groups.push(out.rows);
    problems.push(...out.problems);
  }
  for (const [bench, suite] of [
    ["mlp-step", epochSuite],
    ["cnn-step", cnnEpochSuite],
  ] as const) {
    if (!opts.only.includes(bench)) continue;
    const out = await suite(opts, log);
    groups.push(out.rows);
    problems.push(...out.problems);
    notes.push(out.lossReport);
  }
  console.log("");
  console.log(formatTable(groups));
  for (const n of notes.filter(Boolean)) console.log(`\n${n}`);
  console.log(
    "\nmatmul: GFLOP/s = 2*M*K*N / time; PyTorch: torch.mm (cuBLAS), float32, TF32 off. ratio = ours / PyTorch's.",
  );
  console.log(
    "epoch: seconds for one training epoch (upload of each batch included); ratio = PyTorch's time / ours (goal: >= 0.5, within 2x).",
  );
  console.log(`took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return finishReport(groups, problems, opts.json);
}

/**
 * The backend settings measured: the defaults ("auto": the tile by shape), then one
 * change at a time, so that a single run on the GPU shows what each choice is worth: split K
 * for K >= 512 (kernels/gemm.ts: pickSplitK says why the default is K >= 4096) and off, Dawn's bounds checks off (the kernels check their own bounds; off is not the default),
 * and each tile forced.
 */
const MATMUL_VARIANTS: { label: string; options: WebGpuBackendOptions }[] = [
  { label: "auto", options: {} },
  { label: "split K from K=512", options: { matmulSplitK: "auto" } },
  { label: "split K off", options: { matmulSplitK: "off" } },
  { label: "Dawn robustness off", options: { dawnFlags: ["enable-dawn-features=disable_robustness"] } },
  ...FORCED_TILES.map((tile) => ({ label: `tile ${tile}`, options: { matmulTile: tile } })),
];

interface TorchMatmul {
  results: { form: GpuMatmulShape["form"]; M: number; K: number; N: number; seconds: number[]; inner: number }[];
}

async function matmulSuite(opts: BenchOptions, log: Log): Promise<{ rows: Row[]; problems: string[] }> {
  const shapes = gpuMatmulShapes(opts.quick);
  const rows: Row[] = [];
  const problems: string[] = [];
  const gflops = (s: GpuMatmulShape, t: number) => matmulFlops(s) / t / 1e9;
  let torch: Map<string, Timing> | null = null;
  let torchNote = "";
  if (opts.only.includes("torch")) {
    log("matmul: PyTorch (CUDA)");
    try {
      const out = await runTorchGpu<TorchMatmul>({ task: "matmul", shapes }, opts.timing);
      torch = new Map(out.results.map((r) => [shapeLabel(r), summarize(r.seconds, 1)]));
      torchNote = `PyTorch ${out.torch}, CUDA ${out.cuda}, ${out.device}`;
    } catch (e) {
      if (e instanceof PeerUnavailable) torchNote = e.note;
      else problems.push(`matmul PyTorch: ${describeError(e)}`);
    }
  }
  for (const variant of MATMUL_VARIANTS) {
    const be = await WebGpuBackend.create(variant.options);
    const auto = variant.label === "auto";
    try {
      for (const s of shapes) {
        log(`matmul ${shapeLabel(s)} webgpu ${variant.label}`);
        try {
          const { timing } = await timeOurMatmul(be, s, opts.timing);
          const value = gflops(s, timing.median);
          const extra: Partial<Row> = {};
          const peer = torch?.get(shapeLabel(s));
          if (peer) {
            Object.assign(extra, {
              peer: "PyTorch cuBLAS",
              peerValue: gflops(s, peer.median),
              ratio: value / gflops(s, peer.median),
            });
            if (auto) {
              const goal = s.M === s.N && s.N === s.K ? GOAL_MATMUL_BIG : GOAL_MATMUL_LAYER;
              Object.assign(extra, { goal: `>= ${goal}x`, goalMet: value / gflops(s, peer.median) >= goal });
            }
          }
          rows.push(
            figure(
              `matmul ${shapeLabel(s)} webgpu ${auto ? "(auto)" : variant.label}`,
              "GFLOP/s",
              value,
              gflops(s, timing.min),
              extra,
            ),
          );
        } catch (e) {
          problems.push(`matmul ${shapeLabel(s)} ${variant.label}: ${describeError(e)}`);
        }
      }
    } finally {
      await be.close();
    }
  }
  for (const s of shapes) {
    const t = torch?.get(shapeLabel(s));
    if (t)
      rows.push(
        figure(`matmul ${shapeLabel(s)} PyTorch cuBLAS`, "GFLOP/s", gflops(s, t.median), gflops(s, t.min), {
          note: s === shapes[0] ? torchNote : undefined,
        }),
      );
  }
  if (!torch && torchNote) rows.push({ name: "matmul PyTorch cuBLAS", value: null, unit: "GFLOP/s", note: torchNote });
  return { rows, problems };
}

interface TorchEpoch {
  losses: number[];
  seconds: number[];
}

/** The MNIST MLP's epoch (bench/spec.ts); --quick: a narrower network and 5 batches, so that a software adapter finishes quickly. */
async function epochSuite(opts: BenchOptions, log: Log): Promise<EpochSuiteOutput> {
  const spec: MlpSpec = opts.quick ? { ...MLP_SPEC, hidden: [128, 128, 128] } : MLP_SPEC;
  const examples = opts.epochImages ?? (opts.quick ? 5 * spec.batch : 50_000);
  const init = initialState(spec, 1);
  return compareEpochs(
    `mnist epoch ${spec.inputs}-${spec.hidden.join("-")}-${spec.classes} batch ${spec.batch}, ${examples} images`,
    opts,
    log,
    init,
    (be) => timeOurEpoch(be, spec, init, { examples, lossSteps: opts.lossSteps, timing: opts.timing }),
    (path) => ({ task: "epoch", spec, init: path, lossSteps: opts.lossSteps, examples }),
    opts.timing,
    LATER_LOSS_RTOL,
  );
}

/**
 * The CIFAR-10 paper network's epoch (bench/cnn-spec.ts, batch 50, 50,000 synthetic images):
 * 1 warm-up and 3 runs (an epoch is long). --quick: the quarter-width network, 2 batches.
 */
async function cnnEpochSuite(opts: BenchOptions, log: Log): Promise<EpochSuiteOutput> {
  const spec: CnnSpec = opts.quick ? { ...CNN_SPEC, architecture: CIFAR10_SMALL_NET } : CNN_SPEC;
  const examples = opts.epochImages ?? (opts.quick ? 2 * spec.batch : 50_000);
  const init = cnnInitialState(spec, spec.batch, 1);
  const timing = { ...opts.timing, warmup: 1, runs: Math.min(opts.timing.runs, 3) };
  return compareEpochs(
    `cifar-10 epoch ${spec.architecture} batch ${spec.batch}, ${examples} images`,
    opts,
    log,
    init,
    (be) => timeOurCnnEpoch(be, spec, init, { examples, lossSteps: opts.lossSteps, timing }),
    (path) => ({
      task: "cnn-epoch",
      spec,
      layers: parseArchitecture(spec.architecture),
      batch: spec.batch,
      init: path,
      lossSteps: opts.lossSteps,
      examples,
    }),
    timing,
    null, // as the CPU peer's CNN (cnn-networks.ts, TORCH_CNN_LOSS_RTOL): its later steps differ by 0.1-1.5 %
  );
}

interface EpochSuiteOutput {
  rows: Row[];
  problems: string[];
  lossReport: string;
}

/**
 * One epoch on the webgpu backend and (with `torch` selected) the same epoch in PyTorch on
 * the same GPU: rows for both, their ratio against the goal (within 2x), and whether both
 * compute the same network (the losses of the first steps from the shared start `init`: step 1
 * to LOSS_RTOL, the later ones to `laterRtol`, or reported only where it is null).
 */
async function compareEpochs(
  name: string,
  opts: BenchOptions,
  log: Log,
  init: { weights: Float32Array[]; x: Float32Array; targets: Float32Array },
  ours: (be: WebGpuBackend) => Promise<EpochResult>,
  torchTask: (initPath: string) => Record<string, unknown>,
  timing: TimingOptions,
  laterRtol: number | null,
): Promise<EpochSuiteOutput> {
  const rows: Row[] = [];
  const problems: string[] = [];
  let mine: EpochResult | null = null;
  let torch: (TorchEpoch & { device: string; torch: string }) | null = null;
  log(`${name}: webgpu`);
  const be = await WebGpuBackend.create();
  try {
    mine = await ours(be);
    rows.push(figure(`${name} webgpu`, "s", mine.timing.median, mine.timing.min, { note: be.adapterLabel }));
  } catch (e) {
    problems.push(`${name} webgpu: ${describeError(e)}`);
  } finally {
    await be.close();
  }
  if (opts.only.includes("torch")) {
    log(`${name}: PyTorch (CUDA)`);
    const file = await writeInitFile(init as Parameters<typeof writeInitFile>[0]);
    try {
      torch = await runTorchGpu<TorchEpoch>(torchTask(file.path), timing);
      const t = summarize(torch.seconds, 1);
      rows.push(
        figure(`${name} PyTorch CUDA`, "s", t.median, t.min, { note: `PyTorch ${torch.torch}, ${torch.device}` }),
      );
      if (mine) {
        const ratio = t.median / mine.timing.median;
        rows.push({
          ...comparison(`${name} webgpu vs PyTorch`, "s", mine.timing.median, "PyTorch CUDA", t.median, {
            goal: `>= ${GOAL_EPOCH}x`,
            goalMet: ratio >= GOAL_EPOCH,
          }),
          ratio,
        });
      }
    } catch (e) {
      if (e instanceof PeerUnavailable)
        rows.push({ name: `${name} PyTorch CUDA`, value: null, unit: "s", note: e.note });
      else problems.push(`${name} PyTorch: ${describeError(e)}`);
    } finally {
      await file.cleanup();
    }
  }
  let lossReport = "";
  const fmtLosses = (ls: number[]) => ls.map((l) => l.toFixed(6)).join(" ");
  if (mine && torch) {
    const relAt = (i: number) => Math.abs(mine!.losses[i] - (torch!.losses[i] ?? NaN)) / Math.abs(torch!.losses[i]);
    const rel = Math.max(...mine.losses.map((_, i) => relAt(i)));
    // step 1 (the forward pass) to LOSS_RTOL, the steps after Adam's updates to laterRtol (step-suite.ts says why)
    const ok = mine.losses.every((_, i) =>
      i === 0 ? relAt(i) <= LOSS_RTOL : laterRtol === null || relAt(i) <= laterRtol,
    );
    const tolerance = `${LOSS_RTOL} at step 1, ${laterRtol === null ? "later steps reported" : `${laterRtol} after`}`;
    lossReport =
      `Same network (${name})? Losses of steps 1-${mine.losses.length} from the shared start: webgpu ${fmtLosses(mine.losses)}; ` +
      `PyTorch ${fmtLosses(torch.losses)}; max rel. diff ${fmt(rel)} ${ok ? "ok" : "MISMATCH"} (tolerance ${tolerance})`;
    rows.push({
      name: `${name} losses webgpu vs PyTorch`,
      value: rel,
      unit: "max relative difference",
      goal: `<= ${tolerance}`,
      goalMet: ok,
    });
    if (!ok) problems.push(`${name}: webgpu and PyTorch do not compute the same network (${lossReport})`);
  } else if (mine) {
    lossReport = `Losses of steps 1-${mine.losses.length} from the shared start (${name}, webgpu): ${fmtLosses(mine.losses)}`;
  }
  return { rows, problems, lossReport };
}
