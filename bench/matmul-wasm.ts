/**
 * GFLOP/s of the wasm backend's matmul in the forms backprop needs, on 1 and 2 threads.
 * GFLOP/s = 2 M K N / time, from the fastest of all runs: the machine is shared, so the runs
 * of every form and thread count are interleaved (rounds x 3 runs each) and the minimum is kept.
 * Build, then run:
 *   npx tsc -p tsconfig.json && node dist/bench/matmul-wasm.js [rounds=10] [threads=1,2]
 * Forms at M=200, K=N=1024 (a is [K,M] for A^T.B, b is [N,K] for A.B^T), accumulate, the
 * weight gradient of a 1024x1024 layer at batch 200 (A^T.B with M=1024, K=200; again with half
 * and 80 % of a's entries 0, as after a ReLU: matmul's sparse path, in dense-equivalent GFLOP/s),
 * the CIFAR-10 paper network's first dense layer's weight gradient at batch 50 (M=8192, K=50:
 * few terms per output, so the output's passes through memory count; dense and half zeros),
 * and binaryMatmul (b = +-1: the lookup-table product, additions only) in the two forms of a binary dense layer,
 * x.Wb and dy.Wb^T, at the float product's equivalent GFLOP/s (2 M K N / time); then x.Wb of the
 * 3x4096 MLP at batch 100 (7 blocks of 16 rows, the last of 4 rows) and at 96 rows (6 blocks).
 */
import type { Tensor } from "../src/core/tensor.js";
import { tensorFrom } from "../src/backends/backend.js";
import { WasmBackend } from "../src/backends/wasm/index.js";
import { Xoshiro128 } from "../src/core/rng.js";

interface Form {
  name: string;
  kernel: "matmul" | "binaryMatmul";
  M: number;
  K: number;
  N: number;
  transA: boolean;
  transB: boolean;
  accumulate: boolean;
  /** Fraction of a's entries that are 0 (the sparse path of x^T.dy: x after a ReLU); default 0. */
  zeros?: number;
}

/** A form of `kernel` on [M, K] x [K, N]: no transposes, no accumulation, no zeros unless `options` says. */
function form(
  kernel: Form["kernel"],
  name: string,
  [M, K, N]: [number, number, number],
  options: Partial<Pick<Form, "transA" | "transB" | "accumulate" | "zeros">> = {},
): Form {
  return { kernel, name, M, K, N, transA: false, transB: false, accumulate: false, ...options };
}

const FORMS: Form[] = [
  form("matmul", "A.B      M=200 K=1024 N=1024", [200, 1024, 1024]),
  form("matmul", "A^T.B    M=200 K=1024 N=1024", [200, 1024, 1024], { transA: true }),
  form("matmul", "A.B^T    M=200 K=1024 N=1024", [200, 1024, 1024], { transB: true }),
  form("matmul", "A.B +=   M=200 K=1024 N=1024", [200, 1024, 1024], { accumulate: true }),
  form("matmul", "A^T.B dW M=1024 K=200 N=1024", [1024, 200, 1024], { transA: true }),
  form("matmul", "  same, a half zeros (sparse)", [1024, 200, 1024], { transA: true, zeros: 0.5 }),
  form("matmul", "  same, a 80 % zeros (sparse)", [1024, 200, 1024], { transA: true, zeros: 0.8 }),
  form("matmul", "A^T.B dW M=8192 K=50 N=1024", [8192, 50, 1024], { transA: true }),
  form("matmul", "  same, a half zeros (sparse)", [8192, 50, 1024], { transA: true, zeros: 0.5 }),
  form("binaryMatmul", "binary x.Wb     M=200 K=N=1024", [200, 1024, 1024]),
  form("binaryMatmul", "binary dy.Wb^T  M=200 K=N=1024", [200, 1024, 1024], { transB: true }),
  form("binaryMatmul", "binary x.Wb     M=100 K=N=4096", [100, 4096, 4096]),
  form("binaryMatmul", "binary x.Wb     M=96 K=N=4096", [96, 4096, 4096]),
];

type MatmulArgs = { a: Tensor; b: Tensor; out: Tensor; transA: boolean; transB: boolean; accumulate: boolean };

function setup(be: WasmBackend, f: Form, rng: Xoshiro128): MatmulArgs {
  const random = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
  const a = tensorFrom(
    be,
    f.transA ? [f.K, f.M] : [f.M, f.K],
    random(f.M * f.K).map((v) => (rng.next() < (f.zeros ?? 0) ? 0 : v)),
  );
  const values = random(f.K * f.N);
  const b = tensorFrom(
    be,
    f.transB ? [f.N, f.K] : [f.K, f.N],
    f.kernel === "binaryMatmul" ? values.map((v) => (v < 0 ? -1 : 1)) : values,
  );
  return { a, b, out: be.alloc([f.M, f.N]), transA: f.transA, transB: f.transB, accumulate: f.accumulate };
}

async function main(): Promise<void> {
  const rounds = Number(process.argv[2] ?? 10);
  const threadCounts = (process.argv[3] ?? "1,2").split(",").map(Number);
  const rng = new Xoshiro128(1);
  const runs: Array<{ be: WasmBackend; threads: number; args: MatmulArgs[]; best: number[] }> = [];
  for (const threads of threadCounts) {
    const be = await WasmBackend.create({ threads });
    runs.push({ be, threads, args: FORMS.map((f) => setup(be, f, rng)), best: FORMS.map(() => Infinity) });
  }
  for (let round = 0; round <= rounds; round++) {
    for (const r of runs) {
      FORMS.forEach((_, i) => {
        for (let rep = 0; rep < 3; rep++) {
          const t0 = performance.now();
          const { a, b, out, transA, transB, accumulate } = r.args[i];
          if (FORMS[i].kernel === "matmul") r.be.run("matmul", { a, b, out, transA, transB, accumulate });
          else r.be.run("binaryMatmul", { a, wb: b, out, transB });
          const ms = performance.now() - t0;
          if (round > 0) r.best[i] = Math.min(r.best[i], ms); // round 0 warms up (tier-up to optimized code)
        }
      });
    }
  }
  const gflops = (f: Form, ms: number) => (2 * f.M * f.K * f.N) / (ms * 1e6);
  console.log(
    `form                             ${runs.map((r) => `${r.threads} thread${r.threads > 1 ? "s" : " "}`.padStart(10)).join("")}   (GFLOP/s, best of ${rounds * 3})`,
  );
  FORMS.forEach((f, i) => {
    const cells = runs.map((r) => gflops(f, r.best[i]).toFixed(1).padStart(10));
    const ratio = runs.length > 1 ? `   x${(runs[0].best[i] / runs[runs.length - 1].best[i]).toFixed(2)}` : "";
    console.log(`${f.name}   ${cells.join("")}${ratio}`);
  });
  for (const r of runs) await r.be.close();
}

await main();
