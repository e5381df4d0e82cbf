import { CNN_NETWORKS, networkFigures } from "./cnn-networks.js";
import { CNN_SPEC, cnnInitialState } from "./cnn-spec.js";
import { createCnnEngineRunner } from "./cnn-step.js";
import { CONV_FLOPS, CONV_SHAPE, benchEngineConv } from "./conv.js";
import type { BenchOptions } from "./options.js";
import { createTfjsCnnRunner } from "./peers/tfjs-cnn.js";
import { comparison, figure, fmt, type Row } from "./report.js";
import { PeerUnavailable, type StepResult, type StepRunner } from "./runner.js";
import { summarize } from "./stats.js";
import { describeError, threadsLabel, type Log, type SuiteOutput } from "./suite.js";

/** The target: the 3x3 conv's forward + input gradient + filter gradient on 2 threads, GFLOP/s. */
export const CONV_GOAL_2T = 40;
/**
 * tfjs's cpu backend needs minutes per step of this network (its convolutions are plain
 * JavaScript loops), so it is not part of the default run (`--only ...,tfjs-cnn` selects it),
 * runs on a batch of 8 (its images/s hardly depend on the batch), and takes 2 steps from the
 * shared start: the first warms it up, the second is timed, and both losses are compared with ours.
 * Not 2: batch norm over 2 images maps every unit to +-1 whatever the weights, so the gradients
 * are rounding noise that Adam's first step turns into different trajectories (the paper
 * network's second losses: 0.2 apart at batch 2, 1.3e-3 at batch 4, 1.6e-5 at batch 8).
 */
export const TFJS_CNN_BATCH = 8;
export const TFJS_CNN_STEPS = 2;
/** Losses of the first steps from the shared start (at the peer's batch) must agree to this relative difference. */
export const CNN_LOSS_RTOL = 1e-3;

const UNIT = "images/s";

/**
 * The convolutional benchmarks: the 3x3 conv kernels (batch 50, 128 -> 128, 32x32) in GFLOP/s;
 * the training step of the paper's CIFAR-10 network and of cifar10-small's in images/s on our
 * engine and in PyTorch on the CPU (cnn-networks.ts, ratios per thread count, 2-thread
 * scaling); the paper network's on tfjs's cpu backend (tfjs-backend-wasm cannot train
 * convolutions); each peer with a check that it computes the same network (losses of the first
 * steps from a shared start).
 */
export async function runCnnSuite(
  options: BenchOptions,
  ceilingPerCore: number,
  log: Log,
): Promise<SuiteOutput & { lossReport: string }> {
  // Each repetition here takes a second or more: at most one warm-up and 5 timed runs.
  const opts = {
    ...options,
    timing: { ...options.timing, warmup: Math.min(options.timing.warmup, 1), runs: Math.min(options.timing.runs, 5) },
  };
  const rows: Row[] = [];
  const problems: string[] = [];
  if (opts.only.includes("conv")) await convFigures(opts, ceilingPerCore, log, rows, problems);

  const engine: StepResult[] = [];
  let peer: StepResult | null = null;
  const spec = CNN_SPEC;
  const lossReports: string[] = [];
  if (opts.only.includes("cnn-step") || opts.only.includes("torch-cnn")) {
    for (const net of CNN_NETWORKS) {
      const out = await networkFigures(opts, net, ceilingPerCore, log);
      rows.push(...out.rows);
      problems.push(...out.problems);
      if (out.lossReport) lossReports.push(out.lossReport);
      if (net.spec === CNN_SPEC) engine.push(...out.engine);
    }
  }
  const small = cnnInitialState(spec, TFJS_CNN_BATCH, 2);
  if (opts.only.includes("tfjs-cnn")) {
    log(`cnn-step: tfjs cpu backend, batch ${TFJS_CNN_BATCH} (slow: seconds per step)`);
    try {
      peer = await measureTwoSteps(await createTfjsCnnRunner(spec, small));
    } catch (e) {
      if (e instanceof PeerUnavailable)
        rows.push({ name: `cnn-step ${e.peer}`, value: null, unit: UNIT, note: e.note });
      else problems.push(`cnn-step tfjs-cpu: ${describeError(e)}`);
    }
  }
  if (peer) {
    const images = TFJS_CNN_BATCH / peer.timing.median;
    rows.push(
      figure(`cnn-step tfjs-cpu, batch ${TFJS_CNN_BATCH}`, UNIT, images, TFJS_CNN_BATCH / peer.timing.min, {
        note: `${peer.description}; one timed step (${fmt(peer.timing.median)} s) after a warm-up step`,
      }),
    );
    for (const e of engine)
      rows.push(comparison(`cnn-step ${e.name} vs tfjs-cpu`, UNIT, spec.batch / e.timing.median, "tfjs-cpu", images));
  }
  if (peer && opts.only.includes("cnn-step")) {
    const check = await checkSameNetwork(opts, small, peer);
    rows.push(check.row);
    problems.push(...check.problems);
    lossReports.push(check.report);
  }
  return { rows, problems, lossReport: lossReports.join("\n\n") };
}

/** Step 1 (warm-up) and step 2 (timed) from the shared start, with their losses. */
async function measureTwoSteps(runner: StepRunner): Promise<StepResult> {
  try {
    const losses = [await runner.step()];
    const t0 = performance.now();
    losses.push(await runner.step());
    const { name, description, sharedStart, threads } = runner;
    return { name, description, sharedStart, threads, losses, timing: summarize([(performance.now() - t0) / 1000], 1) };
  } finally {
    await runner.close();
  }
}

async function convFigures(
  opts: BenchOptions,
  ceilingPerCore: number,
  log: Log,
  rows: Row[],
  problems: string[],
): Promise<void> {
  const { N, H, W, Cin, Cout } = CONV_SHAPE;
  const shape = `3x3 ${Cin}->${Cout} ${H}x${W} batch ${N}`;
  for (const n of opts.threads) {
    log(`conv: ${opts.backend} ${threadsLabel(n)}`);
    try {
      for (const { kernel, timing } of await benchEngineConv(opts, n)) {
        const flops = kernel === "all three" ? 3 * CONV_FLOPS : CONV_FLOPS;
        const value = flops / timing.median / 1e9;
        const goal =
          kernel === "all three" && n === 2 && opts.backend === "wasm"
            ? { goal: `>= ${CONV_GOAL_2T}`, goalMet: value >= CONV_GOAL_2T }
            : {};
        rows.push(
          figure(
            `conv ${shape} ${kernel === "all three" ? "forward + dX + dW" : kernel} ${opts.backend} ${threadsLabel(n)}`,
            "GFLOP/s",
            value,
            flops / timing.min / 1e9,
            { ceiling: ceilingPerCore * n, ...goal },
          ),
        );
      }
    } catch (e) {
      problems.push(`conv ${opts.backend} ${threadsLabel(n)}: ${describeError(e)}`);
    }
  }
}

/** Our engine from the peer's start (its batch): the losses of the first steps must match the peer's. */
async function checkSameNetwork(opts: BenchOptions, small: ReturnType<typeof cnnInitialState>, peer: StepResult) {
  const runner = await createCnnEngineRunner(CNN_SPEC, small, opts.backend, opts.threads[0], opts.simd);
  const losses: number[] = [];
  try {
    for (let i = 0; i < peer.losses.length; i++) losses.push(await runner.step());
  } finally {
    await runner.close();
  }
  const rel = Math.max(...peer.losses.map((l, i) => Math.abs(losses[i] - l) / Math.abs(l)));
  const ok = rel <= CNN_LOSS_RTOL;
  const report = [
    `Same CNN? Losses of steps 1-${losses.length} from the shared start at batch ${TFJS_CNN_BATCH} (tolerance: relative ${CNN_LOSS_RTOL}):`,
    `  ${runner.name.padEnd(10)}  ${losses.map((l) => l.toFixed(6)).join("  ")}  (reference)`,
    `  ${"tfjs-cpu".padEnd(10)}  ${peer.losses.map((l) => l.toFixed(6)).join("  ")}  max rel. diff ${fmt(rel)} ${ok ? "ok" : "MISMATCH"}`,
  ].join("\n");
  return {
    row: {
      name: "cnn-step losses tfjs-cpu vs ours",
      value: rel,
      unit: "max relative difference",
      goal: `<= ${CNN_LOSS_RTOL}`,
      goalMet: ok,
    } as Row,
    problems: ok
      ? []
      : [
          `cnn-step: tfjs-cpu does not compute the same network as ours (losses ${peer.losses.join(", ")} vs ${losses.join(", ")})`,
        ],
    report,
  };
}
