/**
 * Where a training step's time goes: every kernel call of the step on our wasm backend timed
 * (the wasm backend runs a call to its end before returning), summed per kernel and shape over
 * many steps. Usage (after `npm run build`):
 *
 *   node dist/bench/profile-step.js [--network mlp|paper|small] [--threads N] [--steps N] [--simd auto|relaxed|baseline]
 *                                   [--peer torch [--torch-isa native|avx2]] [--hidden 4096,4096,4096] [--batch 100]
 *
 * The same network, batch and start as the benchmark's mlp-step (bench/spec.ts: the MNIST MLP)
 * or cnn-step (bench/cnn-networks.ts: the CIFAR-10 paper network, cifar10-small's); for the MLP,
 * `--hidden` and `--batch` change its hidden layers' widths and its batch (e.g. the 3x4096 MLP of
 * `train --architecture "(3x4096FC)-10"`, batch 100; no dropout). Prints one
 * line per kernel and shape (ms per step, share of the step), then the step's mean time and the
 * time outside the kernels. With `--peer torch`, then the same for PyTorch on the CPU, from the
 * same start on as many threads (bench/peers/bc_torch.py profile_table: torch.profiler's self
 * CPU time per operator and input shapes, over as many steps). A diagnostic: the speed figures
 * are the benchmark's (npm run bench).
 */
import { Command, Option } from "commander";
import { createBackend } from "../src/backends/index.js";
import type { SimdChoice } from "../src/backends/wasm/simd.js";
import { integer } from "../src/cli/parse.js";
import { simdOption } from "../src/cli/wasmOptions.js";
import { Tensor } from "../src/core/tensor.js";
import type { KernelName } from "../src/kernels/contract.js";
import { CNN_NETWORKS } from "./cnn-networks.js";
import { cnnInitialState, createCnnNetwork, type CnnSpec } from "./cnn-spec.js";
import { engineStepRunner } from "./engine-runner.js";
import { engineRunnerOn } from "./mlp-step.js";
import { PeerUnavailable } from "./runner.js";
import { TORCH_ISA_ENV, TORCH_ISAS, type TorchIsa } from "./options.js";
import { measureTorchCnn } from "./peers/torch-cnn.js";
import { measureTorch, writeInitFile } from "./peers/torch-mlp.js";
import { MLP_SPEC, initialState } from "./spec.js";

const command = new Command("profile-step")
  .description("Per-kernel time of a training step on the wasm backend.")
  .addOption(
    new Option("--network <name>", "the MNIST MLP, or a CNN").choices(["mlp", "paper", "small"]).default("mlp"),
  )
  .option("--threads <n>", "threads of the wasm backend", integer(1), 2)
  .option("--steps <n>", "timed steps (after the warm-up steps: 20 for the MLP, 2 for a CNN)", integer(1), 50)
  .option(
    "--hidden <widths>",
    "the MLP's hidden layers, comma-separated (default: the benchmark's 1024,1024,1024)",
    widths,
  )
  .option("--batch <n>", "the MLP's batch (default: the benchmark's 200)", integer(1))
  .addOption(simdOption())
  .addOption(new Option("--peer <name>", "also profile this peer's step from the same start").choices(["torch"]))
  .addOption(
    new Option("--torch-isa <isa>", "the PyTorch peer's vector instructions (bench --torch-isa)")
      .choices(TORCH_ISAS)
      .default("native"),
  )
  .parse();
const opts = command.opts<{
  network: "mlp" | "paper" | "small";
  threads: number;
  steps: number;
  simd: SimdChoice;
  peer?: "torch";
  torchIsa: TorchIsa;
  hidden?: number[];
  batch?: number;
}>();

/** A comma-separated list of layer widths (integers >= 1). */
function widths(text: string): number[] {
  return text.split(",").map((w) => integer(1)(w));
}

if (opts.network !== "mlp" && (opts.hidden || opts.batch))
  command.error("profile-step: --hidden and --batch apply to the MLP (--network mlp) only");
const mlpSpec = { ...MLP_SPEC, hidden: opts.hidden ?? MLP_SPEC.hidden, batch: opts.batch ?? MLP_SPEC.batch };

const backend = await createBackend("wasm", { threads: opts.threads, simd: opts.simd });
const cnn = opts.network === "mlp" ? undefined : CNN_NETWORKS[opts.network === "paper" ? 0 : 1];
const batch = cnn ? cnn.spec.batch : mlpSpec.batch;
const title = cnn
  ? `${cnn.label} step (${cnn.spec.architecture}, batch ${batch})`
  : `MLP step (${mlpSpec.inputs}-${mlpSpec.hidden.join("-")}-${mlpSpec.classes}, batch ${batch})`;
const runner = cnn
  ? engineStepRunnerOf(backend, cnn.spec)
  : engineRunnerOn(backend, "wasm", opts.threads, mlpSpec, initialState(mlpSpec, 1));

const totals = new Map<string, number>();
let timing = false;
const run = backend.run.bind(backend);
backend.run = ((kernel: KernelName, args: Record<string, unknown>) => {
  if (!timing) return run(kernel as never, args as never);
  const t0 = performance.now();
  run(kernel as never, args as never);
  const key = `${kernel} ${shapes(args)}`;
  totals.set(key, (totals.get(key) ?? 0) + performance.now() - t0);
}) as typeof backend.run;

for (let i = 0; i < (cnn ? 2 : 20); i++) await runner.step();
timing = true;
const t0 = performance.now();
for (let i = 0; i < opts.steps; i++) await runner.step();
const step = (performance.now() - t0) / opts.steps;
timing = false;
await runner.close();

console.log(`${title}, ${backend.description}, mean of ${opts.steps} steps:`);
let inKernels = 0;
for (const [key, ms] of [...totals].sort((a, b) => b[1] - a[1])) {
  const perStep = ms / opts.steps;
  inKernels += perStep;
  console.log(`${perStep.toFixed(3).padStart(8)} ms ${((100 * perStep) / step).toFixed(1).padStart(5)} %  ${key}`);
}
console.log(
  `step ${step.toFixed(2)} ms (${((1000 * batch) / step).toFixed(0)} examples/s); in kernels ${inKernels.toFixed(2)} ms, outside ${(step - inKernels).toFixed(2)} ms`,
);

if (opts.peer === "torch") await profileTorch();

/** PyTorch's step from the same start, profiled per operator (bc_torch.py profile_table). */
async function profileTorch(): Promise<void> {
  Object.assign(process.env, TORCH_ISA_ENV[opts.torchIsa]);
  const timing = { warmup: cnn ? 2 : 20, runs: 1, minRunMs: 0 };
  const init = cnn ? cnnInitialState(cnn.spec, cnn.spec.batch, 1) : initialState(mlpSpec, 1);
  const file = await writeInitFile(init);
  try {
    const r = cnn
      ? await measureTorchCnn(cnn.spec, cnn.label, file, batch, opts.threads, 1, timing, opts.steps)
      : await measureTorch(mlpSpec, file, opts.threads, 1, timing, opts.steps);
    console.log(`\n${title}, ${r.description}, mean of ${opts.steps} steps:\n${r.profile ?? "(no profile)"}`);
  } catch (e) {
    if (!(e instanceof PeerUnavailable)) throw e;
    console.log(`\n${e.peer}: ${e.note}`);
    process.exitCode = 1;
  } finally {
    await file.cleanup();
  }
}

/** Our engine's step of a benchmarked CNN from the shared start on `backend`. */
function engineStepRunnerOf(be: typeof backend, spec: CnnSpec) {
  const init = cnnInitialState(spec, spec.batch, 1);
  const [h, w, c] = spec.input;
  const net = createCnnNetwork(be, spec, init);
  return engineStepRunner(be, "wasm", opts.threads, net, {
    features: h * w * c,
    batch: init.batch,
    x: init.x,
    labels: init.labels,
    lr: spec.lr,
  });
}

/** The shapes of a call's tensor arguments and its transposition flags, e.g. "a 200x1024, b 200x1024, tA" or "x 50x32x32x3, w 3x3x3x32". */
function shapes(args: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [name, v] of Object.entries(args)) {
    if (v instanceof Tensor && ["a", "b", "wb", "x", "w", "dy"].includes(name))
      parts.push(`${name} ${v.shape.join("x")}`);
  }
  if (args.transA) parts.push("tA");
  if (args.transB) parts.push("tB");
  return parts.join(", ");
}
