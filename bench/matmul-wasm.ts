/**
 * Quick GFLOP/s of the wasm backend's matmul in the forms backprop needs, on 1 and 2 threads
 * (min over runs; GFLOP/s = 2 M K N / time). Build, then run:
 *   npx tsc -p tsconfig.json && node dist/bench/matmul-wasm.js [runs=15] [threads=1,2]
 * Forms at M=200, K=N=1024 (a is [K,M] for A^T.B, b is [N,K] for A.B^T), plus the weight
 * gradient of a 1024x1024 layer at batch 200 (A^T.B with M=1024, K=200) and accumulate.
 */
import { tensorFrom } from "../src/backends/backend.js";
import { WasmBackend } from "../src/backends/wasm/index.js";
import { Xoshiro128 } from "../src/core/rng.js";

interface Form {
  name: string;
  M: number;
  K: number;
  N: number;
  transA: boolean;
  transB: boolean;
  accumulate: boolean;
}

const FORMS: Form[] = [
  { name: "A.B      M=200 K=1024 N=1024", M: 200, K: 1024, N: 1024, transA: false, transB: false, accumulate: false },
  { name: "A^T.B    M=200 K=1024 N=1024", M: 200, K: 1024, N: 1024, transA: true, transB: false, accumulate: false },
  { name: "A.B^T    M=200 K=1024 N=1024", M: 200, K: 1024, N: 1024, transA: false, transB: true, accumulate: false },
  { name: "A.B +=   M=200 K=1024 N=1024", M: 200, K: 1024, N: 1024, transA: false, transB: false, accumulate: true },
  { name: "A^T.B dW M=1024 K=200 N=1024", M: 1024, K: 200, N: 1024, transA: true, transB: false, accumulate: false },
];

async function measure(threads: number, runs: number): Promise<void> {
  const be = await WasmBackend.create({ threads });
  const rng = new Xoshiro128(1);
  const random = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
  for (const f of FORMS) {
    const a = tensorFrom(be, f.transA ? [f.K, f.M] : [f.M, f.K], random(f.M * f.K));
    const b = tensorFrom(be, f.transB ? [f.N, f.K] : [f.K, f.N], random(f.K * f.N));
    const out = be.alloc([f.M, f.N]);
    const args = { a, b, out, transA: f.transA, transB: f.transB, accumulate: f.accumulate };
    let best = Infinity;
    for (let r = 0; r < runs + 3; r++) {
      const t0 = performance.now();
      be.run("matmul", args);
      const dt = performance.now() - t0;
      if (r >= 3) best = Math.min(best, dt);
    }
    const gflops = (2 * f.M * f.K * f.N) / (best * 1e6);
    console.log(`${f.name}  threads=${threads}  ${gflops.toFixed(1).padStart(5)} GFLOP/s  (min ${best.toFixed(3)} ms)`);
    for (const t of [a, b, out]) be.dispose(t);
  }
  await be.close();
}

const runs = Number(process.argv[2] ?? 15);
const threadCounts = (process.argv[3] ?? "1,2").split(",").map(Number);
for (const threads of threadCounts) await measure(threads, runs);
