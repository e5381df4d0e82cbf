import { Command } from "commander";
import { availableParallelism, cpus, loadavg } from "node:os";
import { BinaryConnectError } from "../src/core/errors.js";
import { resolveSimd } from "../src/backends/wasm/simd.js";
import { measureWasmSimdCeiling } from "./ceiling.js";
import { DOC_WASM_SIMD_GFLOPS_PER_CORE, runMatmulSuite } from "./matmul-suite.js";
import {
  BENCHMARKS,
  CNN_BENCHMARKS,
  DEFAULTS,
  INFER_BENCHMARKS,
  OPT_IN_BENCHMARKS,
  QUICK_TIMING,
  STEP_BENCHMARKS,
  TORCH_ISA_ENV,
  parseBenchOptions,
  type BenchOptions,
  type RawBenchOptions,
} from "./options.js";
import { runCnnSuite } from "./cnn-suite.js";
import { runGpuBench } from "./gpu-suite.js";
import { finishReport, formatTable, type Row } from "./report.js";
import { runInferSuite } from "./infer-suite.js";
import { runStepSuite } from "./step-suite.js";
import { runFitSuite } from "./fit-suite.js";

/**
 * `npm run bench [-- options]`: the wasm matrix product (200x1024x1024, the three forms of
 * backprop) and the MNIST MLP training step, with the peers measured in the same run
 * (tfjs-wasm and jax-js in this process, PyTorch in a child process). Method: warm-up, then
 * min and median of the timed runs. Progress goes to
 * stderr, the report to stdout; the exit code is 1 when a measurement failed or the engines
 * disagree on the losses (a missing peer is reported as "not available", not a failure).
 */
function parseCommandLine(argv: string[]): BenchOptions {
  const program = new Command("bench")
    .description("Benchmarks of binaryconnect's wasm engine against tfjs-wasm, jax-js and PyTorch.")
    .option("--json <file>", "also write the figures as JSON (an array of rows) to FILE")
    .option(
      "--only <names>",
      `comma-separated subset of: ${BENCHMARKS.join(", ")} ("all" leaves out ${OPT_IN_BENCHMARKS.join(", ")}: minutes long)`,
      "all",
    )
    .option("--threads <list>", "comma-separated thread counts of our engine and PyTorch", DEFAULTS.threads.join(","))
    .option(
      "--backend <name>",
      "our engine's backend: wasm, reference (slow: to check agreement), or webgpu (the GPU suite: matmul and an MNIST epoch vs PyTorch CUDA)",
      DEFAULTS.backend,
    )
    .option(
      "--simd <mode>",
      "the wasm backend's SIMD: relaxed (fused multiply-add in the products), baseline (SIMD128 only) or auto (relaxed where accepted)",
      DEFAULTS.simd,
    )
    .option(
      "--runs <n>",
      `timed runs per figure (default: ${DEFAULTS.timing.runs}, or ${QUICK_TIMING.runs} with --quick)`,
    )
    .option(
      "--epoch-images <n>",
      "the GPU suite's epochs (mlp-step, cnn-step): images per timed epoch (default: 50,000, a training epoch)",
    )
    .option(
      "--torch-isa <isa>",
      "the CPU PyTorch peers' vector instructions: native, or avx2 (oneDNN and OpenBLAS capped at AVX2: a diagnostic of what 512-bit vectors give them)",
      DEFAULTS.torchIsa,
    )
    .option(
      "--quick",
      `smoke run: ${QUICK_TIMING.warmup} warm-up and ${QUICK_TIMING.runs} runs of one repetition ` +
        `(default: ${DEFAULTS.timing.warmup} warm-up, runs of >= ${DEFAULTS.timing.minRunMs} ms)`,
    )
    .showHelpAfterError();
  program.parse(argv);
  return parseBenchOptions(program.opts<RawBenchOptions>());
}

async function main(): Promise<number> {
  const opts = parseCommandLine(process.argv);
  // the PyTorch peers are child processes: they inherit the caps
  Object.assign(process.env, TORCH_ISA_ENV[opts.torchIsa]);
  if (opts.backend === "webgpu") return runGpuBench(opts);
  const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);
  const started = performance.now();
  const load0 = loadavg()[0];
  console.log(`binaryconnect bench, ${new Date().toISOString()}`);
  console.log(
    `machine: ${cpus()[0]?.model ?? "?"}, ${availableParallelism()} cores, Node ${process.version}; load average ${load0.toFixed(2)}`,
  );
  console.log(
    `method: ${opts.timing.warmup} warm-up, ${opts.timing.runs} timed runs of >= ${opts.timing.minRunMs} ms; median and best run` +
      (opts.timing.runs < 5 ? "  (fewer than 5 runs: not a valid measurement)" : ""),
  );

  log("the WebAssembly SIMD128 ceiling of this machine");
  // The kernels built with relaxed SIMD multiply-add in one instruction: their ceiling is that loop's.
  const simd = opts.backend === "wasm" ? await resolveSimd(opts.simd) : "baseline";
  const mulAdd = await measureWasmSimdCeiling("mul+add");
  const fma = simd === "relaxed" ? await measureWasmSimdCeiling("fma") : null;
  const ceiling = fma ?? mulAdd;
  const ceilingName = fma ? "relaxed-SIMD multiply-add loop" : "SIMD128 mul+add loop";
  const ceilingNote = `best run; the ceiling per core of the fractions below (docs/RESULTS.md's dev-2c-xeon: ~${DOC_WASM_SIMD_GFLOPS_PER_CORE}, mul+add)`;
  const ceilingRows: Row[] = [
    {
      name: `wasm SIMD128 mul+add loop 1 thread${fma ? "" : " (the ceiling)"}`,
      value: mulAdd,
      unit: "GFLOP/s",
      note: fma ? undefined : ceilingNote,
    },
  ];
  if (fma)
    ceilingRows.push({
      name: "wasm relaxed-SIMD multiply-add loop 1 thread (the ceiling)",
      value: fma,
      unit: "GFLOP/s",
      note: ceilingNote,
    });
  const groups: Row[][] = [ceilingRows];
  console.log(`engine: ${opts.backend}${opts.backend === "wasm" ? `, SIMD ${simd} (--simd ${opts.simd})` : ""}`);
  const problems: string[] = [];
  let lossReport = "";
  if (opts.only.includes("matmul")) {
    const out = await runMatmulSuite(opts, ceiling, log);
    groups.push(out.rows);
    problems.push(...out.problems);
  }
  if (opts.only.some((b) => STEP_BENCHMARKS.includes(b))) {
    const out = await runStepSuite(opts, ceiling, log);
    groups.push(out.rows);
    problems.push(...out.problems);
    lossReport = out.lossReport;
  }

  if (opts.only.some((b) => INFER_BENCHMARKS.includes(b))) {
    const out = await runInferSuite(opts, log);
    groups.push(out.rows);
    problems.push(...out.problems);
  }
  let cnnLossReport = "";
  if (opts.only.some((b) => CNN_BENCHMARKS.includes(b))) {
    const out = await runCnnSuite(opts, ceiling, log);
    groups.push(out.rows);
    problems.push(...out.problems);
    cnnLossReport = out.lossReport;
  }

  if (opts.only.includes("fit")) {
    const out = await runFitSuite(opts, log);
    groups.push(out.rows);
    problems.push(...out.problems);
  }

  console.log("");
  console.log(formatTable(groups));
  if (lossReport) console.log(`\n${lossReport}`);
  if (cnnLossReport) console.log(`\n${cnnLossReport}`);
  console.log(
    `\nmatmul: GFLOP/s = 2*M*K*N / time; ceiling: the ${ceilingName} (${ceiling.toFixed(1)} GFLOP/s per core here) x threads.`,
  );
  console.log(
    "mlp-step: examples/s of forward + backward + Adam update at batch 200; ceiling: every float product (the weight gradients, the classifier layer) at the ceiling, the binary products (lookup tables) and the rest free.",
  );
  console.log(
    "infer: images/s of the MNIST MLP's inference (preprocessing included) at batch 1 and 200, every engine on one thread.",
  );
  if (opts.only.includes("infer-cnn"))
    console.log("infer-cnn: images/s of cifar10-small's CNN (32x32x3, random weights) at batch 1 and 50, one thread.");
  console.log(
    `conv: GFLOP/s = 2*N*H*W*Cin*Cout*9 / time per kernel (x3 for forward + dX + dW); cnn-step: images/s of forward + backward + Adam, ceiling = every product done as the direct float product at the ${ceilingName}'s ceiling (the lookup tables and Winograd's filter gradient do fewer operations: above 100 % is possible).`,
  );
  if (opts.only.includes("fit"))
    console.log(
      "fit: examples/s of one epoch of 20,000 MNIST images (MLP, batch 200, no validation) through Model.fit and through the engine's bare loop (gather, upload, trainStep), interleaved.",
    );
  console.log(
    `took ${((performance.now() - started) / 1000).toFixed(0)} s; load average now ${loadavg()[0].toFixed(2)} (was ${load0.toFixed(2)})`,
  );
  return finishReport(groups, problems, opts.json);
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof BinaryConnectError ? `error: ${e.message}` : e);
    process.exit(1);
  },
);
