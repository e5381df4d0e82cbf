import { WebGpuBackend, type WebGpuBackendOptions } from "../src/backends/webgpu/index.js";
import { FORCED_TILES, gpuMatmulShapes, matmulFlops, shapeLabel, timeOurMatmul, type GpuMatmulShape } from "./gpu-matmul.js";
import { timeOurEpoch, type EpochResult } from "./gpu-epoch.js";
import type { BenchOptions } from "./options.js";
import { runTorchGpu } from "./peers/torch-gpu.js";
import { writeInitFile } from "./peers/torch-mlp.js";
import { comparison, figure, fmt, formatTable, writeJson, type Row } from "./report.js";
import { PeerUnavailable } from "./runner.js";
import { MLP_SPEC, initialState, type MlpSpec } from "./spec.js";
import { summarize, type Timing } from "./stats.js";
import { describeError, type Log } from "./suite.js";

/** The issue's goals: our matmul vs cuBLAS (same card, fp32, TF32 off), and an epoch within 2x of PyTorch's time. */
export const GOAL_MATMUL_BIG = 0.6;
export const GOAL_MATMUL_LAYER = 0.5;
export const GOAL_EPOCH = 0.5;
const LOSS_RTOL = 1e-3;

/**
 * `npm run bench -- --backend webgpu [--quick] [--json FILE]`: the GPU suite, in one call.
 * - matmul: 4096^3 and 200x1024x1024 (three forms) on the webgpu backend, with its defaults and
 *   with each setting changed in turn (MATMUL_VARIANTS), against PyTorch's torch.mm (cuBLAS) on
 *   the same GPU;
 * - mlp-step: one training epoch of the MNIST MLP (50,000 synthetic images, batch 200) against
 *   the same epoch in PyTorch on the same GPU, after checking that both compute the same
 *   network (the losses of the first steps from a shared start).
 * PyTorch runs as a child process (bench/peers/torch_gpu.py); without it (no Python, torch or
 * CUDA) its rows say "not available". --quick shrinks the sizes so that a software adapter
 * (lavapipe) runs the whole suite in about a minute. Exit code 1 when a measurement failed or
 * the networks disagree.
 */
export async function runGpuBench(opts: BenchOptions): Promise<number> {
  const log: Log = (m) => process.stderr.write(`[bench gpu] ${m}\n`);
  const started = performance.now();
  const be = await WebGpuBackend.create();
  console.log(`binaryconnect bench --backend webgpu${opts.quick ? " --quick (small sizes: a smoke run)" : ""}, ${new Date().toISOString()}`);
  console.log(`adapter: ${be.description}; Node ${process.version}`);
  console.log(`method: ${opts.timing.warmup} warm-up, ${opts.timing.runs} timed runs; median and best run; each run ends by waiting for the GPU`);
  await be.close();
  const groups: Row[][] = [];
  const problems: string[] = [];
  const notes: string[] = [];
  if (opts.only.includes("matmul")) {
    const out = await matmulSuite(opts, log);
    groups.push(out.rows);
    problems.push(...out.problems);
  }
  if (opts.only.includes("mlp-step")) {
    const out = await epochSuite(opts, log);
    groups.push(out.rows);
    problems.push(...out.problems);
    notes.push(out.lossReport);
  }
  console.log("");
  console.log(formatTable(groups));
  for (const n of notes.filter(Boolean)) console.log(`\n${n}`);
  console.log("\nmatmul: GFLOP/s = 2*M*K*N / time; PyTorch: torch.mm (cuBLAS), float32, TF32 off. ratio = ours / PyTorch's.");
  console.log("epoch: seconds for one training epoch (upload of each batch included); ratio = PyTorch's time / ours (goal: >= 0.5, within 2x).");
  console.log(`took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (opts.json) {
    writeJson(opts.json, groups.flat());
    console.log(`wrote ${opts.json}`);
  }
  if (problems.length) {
    console.error(`\n${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    return 1;
  }
  return 0;
}

/**
 * The backend settings measured: the defaults ("auto": the tile by shape), then one
 * change at a time, so that a single run on the GPU shows what each choice is worth: split K
 * on (kernels/gemm.ts: pickSplitK says why it is off by default), Dawn's bounds checks off (the kernels check their own bounds; off is not the default),
 * and each tile forced.
 */
const MATMUL_VARIANTS: { label: string; options: WebGpuBackendOptions }[] = [
  { label: "auto", options: {} },
  { label: "split K on", options: { matmulSplitK: "auto" } },
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
            Object.assign(extra, { peer: "PyTorch cuBLAS", peerValue: gflops(s, peer.median), ratio: value / gflops(s, peer.median) });
            if (auto) {
              const goal = s.M === s.N && s.N === s.K ? GOAL_MATMUL_BIG : GOAL_MATMUL_LAYER;
              Object.assign(extra, { goal: `>= ${goal}x`, goalMet: value / gflops(s, peer.median) >= goal });
            }
          }
          rows.push(figure(`matmul ${shapeLabel(s)} webgpu ${auto ? "(auto)" : variant.label}`, "GFLOP/s", value, gflops(s, timing.min), extra));
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
    if (t) rows.push(figure(`matmul ${shapeLabel(s)} PyTorch cuBLAS`, "GFLOP/s", gflops(s, t.median), gflops(s, t.min), { note: s === shapes[0] ? torchNote : undefined }));
  }
  if (!torch && torchNote) rows.push({ name: "matmul PyTorch cuBLAS", value: null, unit: "GFLOP/s", note: torchNote });
  return { rows, problems };
}

interface TorchEpoch {
  losses: number[];
  seconds: number[];
}

async function epochSuite(opts: BenchOptions, log: Log): Promise<{ rows: Row[]; problems: string[]; lossReport: string }> {
  // --quick: a narrower network and 5 batches, so that a software adapter finishes quickly
  const spec: MlpSpec = opts.quick ? { ...MLP_SPEC, hidden: [128, 128, 128] } : MLP_SPEC;
  const examples = opts.quick ? 5 * spec.batch : 50_000;
  const name = `mnist epoch ${spec.inputs}-${spec.hidden.join("-")}-${spec.classes} batch ${spec.batch}, ${examples} images`;
  const init = initialState(spec, 1);
  const rows: Row[] = [];
  const problems: string[] = [];
  let ours: EpochResult | null = null;
  let torch: (TorchEpoch & { device: string; torch: string }) | null = null;
  log(`${name}: webgpu`);
  const be = await WebGpuBackend.create();
  try {
    ours = await timeOurEpoch(be, spec, init, examples, opts.lossSteps, opts.timing);
    rows.push(figure(`${name} webgpu`, "s", ours.timing.median, ours.timing.min, { note: `${fmt(examples / ours.timing.median)} examples/s; ${be.adapterLabel}` }));
  } catch (e) {
    problems.push(`${name} webgpu: ${describeError(e)}`);
  } finally {
    await be.close();
  }
  if (opts.only.includes("torch")) {
    log(`${name}: PyTorch (CUDA)`);
    const file = await writeInitFile(init);
    try {
      torch = await runTorchGpu<TorchEpoch>({ task: "epoch", spec, init: file.path, lossSteps: opts.lossSteps, examples }, opts.timing);
      const t = summarize(torch.seconds, 1);
      rows.push(figure(`${name} PyTorch CUDA`, "s", t.median, t.min, { note: `${fmt(examples / t.median)} examples/s; PyTorch ${torch.torch}, ${torch.device}` }));
      if (ours) {
        const ratio = t.median / ours.timing.median;
        rows.push({ ...comparison(`${name} webgpu vs PyTorch`, "s", ours.timing.median, "PyTorch CUDA", t.median, { goal: `>= ${GOAL_EPOCH}x`, goalMet: ratio >= GOAL_EPOCH }), ratio });
      }
    } catch (e) {
      if (e instanceof PeerUnavailable) rows.push({ name: `${name} PyTorch CUDA`, value: null, unit: "s", note: e.note });
      else problems.push(`${name} PyTorch: ${describeError(e)}`);
    } finally {
      await file.cleanup();
    }
  }
  let lossReport = "";
  if (ours && torch) {
    const rel = Math.max(...ours.losses.map((l, i) => Math.abs(l - (torch!.losses[i] ?? NaN)) / Math.abs(torch!.losses[i])));
    const ok = rel <= LOSS_RTOL;
    lossReport = `Same network? Losses of steps 1-${ours.losses.length} from the shared start: webgpu ${ours.losses.map((l) => l.toFixed(6)).join(" ")}; ` +
      `PyTorch ${torch.losses.map((l) => l.toFixed(6)).join(" ")}; max rel. diff ${fmt(rel)} ${ok ? "ok" : "MISMATCH"} (tolerance ${LOSS_RTOL})`;
    rows.push({ name: "mnist epoch losses webgpu vs PyTorch", value: rel, unit: "max relative difference", goal: `<= ${LOSS_RTOL}`, goalMet: ok });
    if (!ok) problems.push(`mnist epoch: webgpu and PyTorch do not compute the same network (${lossReport})`);
  } else if (ours) {
    lossReport = `Losses of steps 1-${ours.losses.length} from the shared start (webgpu): ${ours.losses.map((l) => l.toFixed(6)).join(" ")}`;
  }
  return { rows, problems, lossReport };
}
