import type { Backend } from "../src/backends/backend.js";
import { BACKEND_NAMES, createBackend, type BackendName } from "../src/backends/index.js";
import { SIMD_CHOICES, type SimdChoice } from "../src/backends/wasm/simd.js";
import { OptionError } from "../src/core/errors.js";
import { closest } from "../src/core/suggest.js";
import type { TimingOptions } from "./stats.js";

/**
 * What `--only` selects:
 * - matmul:   our engine's matrix products (and tfjs-wasm's matMul when tfjs is selected too);
 * - mlp-step: our engine's training step;
 * - tfjs, jax-js, torch: that peer's training step;
 * - infer: binaryconnect/infer (1-bit lookup-table kernel) and our float32 forward pass;
 * - ort-web, ort-node: the exported ONNX graph in onnxruntime-web (WASM) / onnxruntime-node;
 * - infer-cnn: binaryconnect/infer on cifar10-small's CNN (32x32x3) against onnxruntime-node, onnxruntime-web and tfjs-wasm;
 * - conv: our engine's 3x3 convolution kernels (forward, dX, dW) at batch 50, 128 -> 128, 32x32;
 * - cnn-step, torch-cnn: the training step of the CIFAR-10 paper network and of cifar10-small's,
 *   ours and PyTorch's on the CPU (a child process);
 * - tfjs-cnn: the paper network's step in tfjs's cpu backend (minutes: not in "all"; select it with --only);
 * - fit: the library's Model.fit against the engine's bare training loop (MNIST MLP, one epoch).
 */
export const BENCHMARKS = [
  "matmul",
  "mlp-step",
  "tfjs",
  "jax-js",
  "torch",
  "infer",
  "ort-web",
  "ort-node",
  "infer-cnn",
  "conv",
  "cnn-step",
  "torch-cnn",
  "tfjs-cnn",
  "fit",
] as const;
/** The benchmarks of the training-step suite and of the inference suite. */
export const STEP_BENCHMARKS: readonly Benchmark[] = ["mlp-step", "tfjs", "jax-js", "torch"];
export const INFER_BENCHMARKS: readonly Benchmark[] = ["infer", "ort-web", "ort-node", "infer-cnn"];
export const CNN_BENCHMARKS: readonly Benchmark[] = ["conv", "cnn-step", "torch-cnn", "tfjs-cnn"];
export type Benchmark = (typeof BENCHMARKS)[number];

/** The options of `npm run bench`; the CLI only parses into this. */
export interface BenchOptions {
  /** Write the figures as JSON (an array of Row, see bench/report.ts) to this file. */
  json: string | null;
  /** The benchmarks to run. */
  only: Benchmark[];
  /** Thread counts of our engine (and PyTorch); tfjs-wasm and jax-js have one thread in Node. */
  threads: number[];
  /** Our engine's backend: wasm, or reference (the specification: slow, for checking agreement); webgpu runs the GPU suite (bench/gpu-suite.ts). */
  backend: BackendName;
  /** The wasm backend's SIMD (src/backends/wasm/simd.ts): relaxed (fused multiply-add), baseline or auto. */
  simd: SimdChoice;
  timing: TimingOptions;
  /** --quick: a smoke run (the GPU suite also shrinks its sizes, to run on a software adapter). */
  quick: boolean;
  /** Steps from the shared start whose losses are compared across engines (also warm-up). */
  lossSteps: number;
  /** The GPU suite's epochs (mlp-step, cnn-step): images per timed epoch, or null for the suite's own (50,000; fewer with --quick). */
  epochImages: number | null;
  /** The CPU PyTorch peers' vector instructions: the machine's own (native), or capped at AVX2 (see TORCH_ISA_ENV). */
  torchIsa: TorchIsa;
}

/** --torch-isa: the CPU PyTorch peers on the machine's widest vectors (native), or capped at AVX2. */
export const TORCH_ISAS = ["native", "avx2"] as const;
export type TorchIsa = (typeof TORCH_ISAS)[number];

/**
 * The environment that caps a PyTorch child at AVX2: oneDNN's convolutions
 * (ONEDNN_MAX_CPU_ISA) and OpenBLAS's products (OPENBLAS_CORETYPE=Haswell, its AVX2 kernels).
 * A diagnostic: WebAssembly's SIMD is 128 bits wide on every CPU, and this shows how much of a
 * peer's lead on an AVX-512 machine its 512-bit vectors give.
 */
export const TORCH_ISA_ENV: Record<TorchIsa, Record<string, string>> = {
  native: {},
  avx2: { ONEDNN_MAX_CPU_ISA: "AVX2", OPENBLAS_CORETYPE: "Haswell" },
};

/** The variables of TORCH_ISA_ENV's caps that `env` sets, as "NAME=value" (the peers' label names them). */
export function torchIsaCaps(env: NodeJS.ProcessEnv): string[] {
  return Object.keys(TORCH_ISA_ENV.avx2)
    .filter((name) => env[name] !== undefined && env[name] !== "")
    .map((name) => `${name}=${env[name]}`);
}

/** What a benchmark of our engine's kernels takes of the options: the backend, its SIMD and the timing. */
export type EngineOptions = Pick<BenchOptions, "backend" | "simd" | "timing">;

/** Runs `body` on our engine's backend (the options' backend and SIMD) with `threads` threads, then closes it. */
export async function withBackend<T>(
  opts: EngineOptions,
  threads: number,
  body: (backend: Backend) => Promise<T>,
): Promise<T> {
  const backend = await createBackend(opts.backend, { threads, simd: opts.simd });
  try {
    return await body(backend);
  } finally {
    await backend.close();
  }
}

export const DEFAULTS = {
  json: null,
  only: [...BENCHMARKS],
  threads: [1, 2],
  backend: "wasm",
  simd: "auto",
  timing: { warmup: 2, runs: 10, minRunMs: 250 },
  quick: false,
  lossSteps: 3,
  epochImages: null,
  torchIsa: "native",
} as const satisfies BenchOptions;

/** --quick: 5 runs of one repetition after one warm-up (a smoke run; the figures are noisier). */
export const QUICK_TIMING: TimingOptions = { warmup: 1, runs: 5, minRunMs: 0 };

/** The raw strings from the command line (commander's output). */
export interface RawBenchOptions {
  json?: string;
  only: string;
  threads: string;
  backend: string;
  simd: string;
  runs?: string;
  quick?: boolean;
  epochImages?: string;
  torchIsa?: string;
}

/** Benchmarks that "all" leaves out (minutes long): run them with --only. */
export const OPT_IN_BENCHMARKS: readonly Benchmark[] = ["tfjs-cnn"];

export function parseBenchOptions(raw: RawBenchOptions): BenchOptions {
  const only =
    raw.only === "all"
      ? BENCHMARKS.filter((b) => !OPT_IN_BENCHMARKS.includes(b))
      : raw.only
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
          .map(parseBenchmark);
  if (only.length === 0)
    throw new OptionError(`--only: expected a comma-separated list of ${BENCHMARKS.join(", ")}, found "${raw.only}"`);
  const threads = raw.threads.split(",").map((s) => parseIntOption("--threads", s.trim(), 1, 64));
  if (!(BACKEND_NAMES as readonly string[]).includes(raw.backend)) {
    throw new OptionError(
      `--backend: unknown backend "${raw.backend}"; expected one of ${BACKEND_NAMES.join(", ")}`,
      `did you mean "${closest(raw.backend, BACKEND_NAMES)}"?`,
    );
  }
  const backend = raw.backend as BackendName;
  if (!(SIMD_CHOICES as readonly string[]).includes(raw.simd)) {
    throw new OptionError(
      `--simd: expected one of ${SIMD_CHOICES.join(", ")}, found "${raw.simd}"`,
      `did you mean "${closest(raw.simd, SIMD_CHOICES)}"?`,
    );
  }
  const torchIsa = raw.torchIsa ?? DEFAULTS.torchIsa;
  if (!(TORCH_ISAS as readonly string[]).includes(torchIsa)) {
    throw new OptionError(
      `--torch-isa: expected one of ${TORCH_ISAS.join(", ")}, found "${torchIsa}"`,
      `did you mean "${closest(torchIsa, TORCH_ISAS)}"?`,
    );
  }
  const base = raw.quick ? QUICK_TIMING : DEFAULTS.timing;
  const runs = raw.runs === undefined ? base.runs : parseIntOption("--runs", raw.runs, 1, 1000);
  return {
    json: raw.json ?? null,
    only: [...new Set(only)],
    // The reference backend has one thread; asking it for more would only repeat the figure.
    threads: backend === "reference" ? [1] : [...new Set(threads)].sort((a, b) => a - b),
    backend,
    simd: raw.simd as SimdChoice,
    timing: { ...base, runs },
    quick: raw.quick === true,
    lossSteps: DEFAULTS.lossSteps,
    epochImages:
      raw.epochImages === undefined ? null : parseIntOption("--epoch-images", raw.epochImages, 200, 1_000_000),
    torchIsa: torchIsa as TorchIsa,
  };
}

function parseBenchmark(name: string): Benchmark {
  if ((BENCHMARKS as readonly string[]).includes(name)) return name as Benchmark;
  throw new OptionError(
    `--only: unknown benchmark "${name}"; expected some of ${BENCHMARKS.join(", ")}`,
    `did you mean "${closest(name, BENCHMARKS)}"?`,
  );
}

function parseIntOption(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new OptionError(`${flag}: expected an integer from ${min} to ${max}, found "${text}"`);
  }
  return n;
}
