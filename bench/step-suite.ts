import { usesLookupTables } from "../src/backends/wasm/kernels/binaryMatmul.js";
import { createEngineRunner } from "./mlp-step.js";
import type { BenchOptions } from "./options.js";
import { createJaxjsRunner } from "./peers/jaxjs-mlp.js";
import { createTfjsRunner } from "./peers/tfjs-mlp.js";
import { measureTorch, writeInitFile } from "./peers/torch-mlp.js";
import { comparison, figure, fmt, type Row } from "./report.js";
import { PeerUnavailable, measureRunner, type StepResult } from "./runner.js";
import { MLP_SPEC, initialState, layerShapes, matmulFlops, type MlpSpec } from "./spec.js";
import { describeError, measureEngineThreads, threadsLabel, type Log, type SuiteOutput } from "./suite.js";

/** The target: our training step at least 10x tfjs-wasm's. */
export const STEP_GOAL_VS_TFJS = 10;
/** The loss of step 1 from the shared start (the forward pass of the same network) must agree to this relative difference. */
export const LOSS_RTOL = 1e-3;
/**
 * The losses of the later steps (after Adam's updates) to this one: a weight whose gradient is
 * near 0 takes Adam's first step (+-lr, by the gradient's sign) in the direction its rounding
 * gives, and a weight near 0 then binarizes to the other sign. Seen: PyTorch on 1 thread with
 * OpenBLAS's AVX-512 (SkylakeX) kernel, step 3 2.3e-3 from ours; with its AVX2 kernel
 * (OPENBLAS_CORETYPE=Haswell) and on 2 threads, 1.5e-7.
 */
export const LATER_LOSS_RTOL = 1e-2;

const UNIT = "examples/s";

/**
 * The MNIST MLP training step (bench/spec.ts): our engine at each thread count, tfjs-wasm,
 * jax-js and PyTorch (a child process, at each thread count), all from the same start on the
 * same batch; then a check that they compute the same network (the losses of the first steps).
 */
export async function runStepSuite(
  opts: BenchOptions,
  ceilingPerCore: number,
  log: Log,
): Promise<SuiteOutput & { lossReport: string }> {
  const spec = MLP_SPEC;
  const init = initialState(spec, 1);
  const rows: Row[] = [];
  const problems: string[] = [];
  const engine: StepResult[] = [];
  const peers: StepResult[] = [];

  /** Measures one engine or peer; a missing peer becomes a "not available" row. */
  const attempt = async (label: string, into: StepResult[], measure: () => Promise<StepResult>) => {
    log(`mlp-step: ${label}`);
    try {
      into.push(await measure());
    } catch (e) {
      if (e instanceof PeerUnavailable)
        rows.push({ name: `mlp-step ${e.peer}`, value: null, unit: UNIT, note: e.note });
      else problems.push(`mlp-step ${label}: ${describeError(e)}`);
    }
  };
  const { lossSteps, timing } = opts;
  if (opts.only.includes("mlp-step")) {
    const create = (n: number) => createEngineRunner(spec, init, opts.backend, n, opts.simd);
    engine.push(...(await measureEngineThreads(`mlp-step ${opts.backend}`, opts.threads, create, opts, problems, log)));
  }
  if (opts.only.includes("tfjs"))
    await attempt("tfjs-wasm", peers, async () => measureRunner(await createTfjsRunner(spec, init), lossSteps, timing));
  if (opts.only.includes("jax-js"))
    await attempt("jax-js", peers, async () => measureRunner(await createJaxjsRunner(spec, init), lossSteps, timing));
  if (opts.only.includes("torch")) {
    const file = await writeInitFile(init);
    try {
      for (const n of opts.threads)
        await attempt(`PyTorch ${threadsLabel(n)}`, peers, () => measureTorch(spec, file, n, lossSteps, timing));
    } finally {
      await file.cleanup();
    }
  }

  const perSecond = (seconds: number) => spec.batch / seconds;
  for (const e of engine) {
    const extra =
      opts.backend === "wasm" ? { ceiling: ceilingExamplesPerSecond(spec, ceilingPerCore * (e.threads ?? 1)) } : {};
    rows.push(figure(`mlp-step ${e.name}`, UNIT, perSecond(e.timing.median), perSecond(e.timing.min), extra));
  }
  for (const p of peers)
    rows.push(
      figure(`mlp-step ${p.name}`, UNIT, perSecond(p.timing.median), perSecond(p.timing.min), { note: p.description }),
    );
  for (const e of engine) {
    for (const p of peers) {
      if (p.threads !== undefined && p.threads !== e.threads) continue; // PyTorch: same thread count only
      const ratio = p.timing.median / e.timing.median;
      const goal =
        p.name === "tfjs-wasm" && opts.backend === "wasm"
          ? { goal: `>= ${STEP_GOAL_VS_TFJS}x`, goalMet: ratio >= STEP_GOAL_VS_TFJS }
          : {};
      rows.push(
        comparison(
          `mlp-step ${e.name} vs ${p.name}`,
          UNIT,
          perSecond(e.timing.median),
          p.name,
          perSecond(p.timing.median),
          goal,
        ),
      );
    }
  }
  const agreement = checkLosses([...engine, ...peers]);
  rows.push(...agreement.rows);
  problems.push(...agreement.problems);
  return { rows, problems, lossReport: agreement.report };
}

/**
 * The examples/s our step would reach if its float matrix products ran at `gflops` (the SIMD
 * ceiling of the cores used) and everything else were free: an upper bound. The float products
 * are the weight gradients and the products of layers too small for binaryMatmul's lookup
 * tables; the other forward and input-gradient products (additions only) count as free, so
 * the fraction of this ceiling says what the binary products, batch norm and Adam cost.
 */
export function ceilingExamplesPerSecond(spec: MlpSpec, gflops: number): number {
  return (gflops * 1e9) / (floatStepFlops(spec) / spec.batch);
}

/** FLOPs of the step's float products (weight gradients; forward and dx where the layer is too small for the lookup tables). */
export function floatStepFlops(spec: MlpSpec): number {
  return layerShapes(spec).reduce((s, [k, n], i) => {
    const forward = usesLookupTables(k, n) ? 0 : 1,
      dx = i === 0 || usesLookupTables(n, k) ? 0 : 1;
    return s + (1 + forward + dx) * matmulFlops(spec.batch, k, n);
  }, 0);
}

/** Compares the first losses of every measurement from the shared start with the first one. */
function checkLosses(results: StepResult[]): SuiteOutput & { report: string } {
  const shared = results.filter((r) => r.sharedStart && r.losses.length > 0);
  if (shared.length < 2) return { rows: [], problems: [], report: "" };
  const ref = shared[0];
  const width = Math.max(...shared.map((r) => r.name.length));
  const lines = [
    `Same network? Losses of steps 1-${ref.losses.length} from the shared start (tolerance: relative ${LOSS_RTOL} at step 1, ${LATER_LOSS_RTOL} after):`,
  ];
  const rows: Row[] = [];
  const problems: string[] = [];
  const relDiff = (r: StepResult, i: number) =>
    Math.abs((r.losses[i] ?? NaN) - ref.losses[i]) / Math.abs(ref.losses[i]);
  for (const r of shared) {
    const rel = r === ref ? 0 : Math.max(...ref.losses.map((_, i) => relDiff(r, i)));
    const later = ref.losses.slice(1).map((_, i) => relDiff(r, i + 1));
    const ok = r === ref || (relDiff(r, 0) <= LOSS_RTOL && later.every((d) => d <= LATER_LOSS_RTOL)); // NaN fails
    lines.push(
      `  ${r.name.padEnd(width)}  ${r.losses.map((l) => l.toFixed(6)).join("  ")}${r === ref ? "  (reference)" : `  max rel. diff ${fmt(rel)} ${ok ? "ok" : "MISMATCH"}`}`,
    );
    if (r === ref) continue;
    rows.push({
      name: `mlp-step losses ${r.name} vs ${ref.name}`,
      value: rel,
      unit: "max relative difference",
      goal: `<= ${LOSS_RTOL} at step 1, ${LATER_LOSS_RTOL} after`,
      goalMet: ok,
    });
    if (!ok)
      problems.push(
        `mlp-step: ${r.name} does not compute the same network as ${ref.name} (losses ${r.losses.join(", ")} vs ${ref.losses.join(", ")})`,
      );
  }
  return { rows, problems, report: lines.join("\n") };
}
