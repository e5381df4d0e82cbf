/**
 * The convolutions' products by binary filters on the wasm backend: conv2d and
 * conv2dBackwardInput with filters of +-H (the lookup tables, additions only:
 * wasm/kernels/convLut.ts) against the same call with float filters (the float product), on
 * every 3x3 layer of the CIFAR-10 paper network and of cifar10-small (and the first two of
 * svhn-small, the narrowest: 16 filters) at batch 50, on 1 and 2
 * threads. Runs interleaved (binary, float, binary, ...), the best of each kept: the machines
 * are shared. Usage (after `npm run build`):
 *
 *   node dist/bench/conv-lut.js [runs] [threads, e.g. 1,2] [networks, e.g. small,paper]
 *
 * Prints per layer and kernel: ms and GFLOP/s-equivalent (2 N Ho Wo Cin Cout 9 / time) of each,
 * and the speed-up of the tables. Used to set the sizes from which the wasm backend takes them
 * (src/backends/wasm/kernels/conv.ts).
 */
import { WasmBackend } from "../src/backends/wasm/index.js";
import { Xoshiro128 } from "../src/core/rng.js";
import type { Tensor } from "../src/core/tensor.js";
import { CONV_BENCH_LAYERS as LAYERS } from "./cnn-spec.js";

const runs = Number(process.argv[2] ?? 5);
const threadCounts = (process.argv[3] ?? "1,2").split(",").map(Number);
/** Only the layers of these networks (a comma-separated list: svhn-small, small, paper), default all. */
const networks = process.argv[4]?.split(",");

const N = 50;

for (const threads of threadCounts) {
  const be = await WasmBackend.create({ threads });
  console.log(`${be.description}, batch ${N}, best of ${runs} (ms, GFLOP/s-equivalent):`);
  const rng = new Xoshiro128(11);
  const make = (shape: number[], value: () => number): Tensor => {
    const t = be.alloc(shape);
    be.upload(t, Float32Array.from({ length: t.size }, value));
    return t;
  };
  for (const [net, H, Cin, Cout] of LAYERS.filter(([n]) => !networks || networks.includes(n))) {
    const x = make([N, H, H, Cin], () => rng.uniform(-1, 1));
    const dy = make([N, H, H, Cout], () => rng.uniform(-1, 1));
    const wBinary = make([3, 3, Cin, Cout], () => (rng.next() < 0.5 ? -0.04 : 0.04));
    const wFloat = make([3, 3, Cin, Cout], () => rng.uniform(-0.04, 0.04));
    const out = be.alloc([N, H, H, Cout]),
      dx = be.alloc([N, H, H, Cin]);
    const geometry = { stride: [1, 1], pad: [1, 1] } as const;
    const flops = 2 * N * H * H * Cin * Cout * 9;
    const calls = {
      conv2d: (w: Tensor) => be.run("conv2d", { x, w, out, ...geometry }),
      conv2dBackwardInput: (w: Tensor) => be.run("conv2dBackwardInput", { dy, w, dx, ...geometry }),
    };
    for (const [name, call] of Object.entries(calls)) {
      const best = [Infinity, Infinity];
      call(wBinary);
      call(wFloat);
      for (let r = 0; r < runs; r++) {
        [wBinary, wFloat].forEach((w, i) => {
          const t0 = performance.now();
          call(w);
          best[i] = Math.min(best[i], performance.now() - t0);
        });
      }
      const g = (ms: number) => (flops / ms / 1e6).toFixed(1).padStart(6);
      console.log(
        `${net.padEnd(10)} ${String(H).padStart(2)}x${H} ${String(Cin).padStart(3)}->${String(Cout).padEnd(3)} ${name.padEnd(19)} tables ${best[0].toFixed(2).padStart(7)} ms ${g(best[0])}  float ${best[1].toFixed(2).padStart(7)} ms ${g(best[1])}  ${(best[1] / best[0]).toFixed(2)}x`,
      );
    }
    for (const t of [x, dy, wBinary, wFloat, out, dx]) be.dispose(t);
  }
  await be.close();
}
