/**
 * The convolutions' filter gradient (float) on the wasm backend: Winograd's F(4x4, 3x3)
 * transposed (wasm/kernels/convWinograd.ts) against the direct product (im2col^T . dy, with its
 * sparse path for a ReLU's zeros), on every 3x3 layer after the first of svhn-small (its first
 * two), cifar10-small and the CIFAR-10 paper network, batch 50, x a ReLU's output (half zeros),
 * on 1 and 2 threads. Runs interleaved (Winograd, direct, Winograd, ...), the best of each
 * kept: the machines are shared. Usage (after `npm run build`):
 *
 *   node dist/bench/conv-filter.js [runs] [threads, e.g. 1,2] [networks, e.g. small,paper]
 *
 * Prints per layer: ms and GFLOP/s-equivalent (2 N Ho Wo Cin Cout 9 / time) of each, and the
 * speed-up. Used to set the sizes from which the wasm backend takes Winograd
 * (src/backends/wasm/kernels/conv2dBackwardFilter.ts).
 */
import { WasmBackend } from "../src/backends/wasm/index.js";
import { filterGradientPaths } from "../src/backends/wasm/kernels/conv2dBackwardFilter.js";
import { Xoshiro128 } from "../src/core/rng.js";
import type { Tensor } from "../src/core/tensor.js";
import { CONV_BENCH_LAYERS } from "./cnn-spec.js";

const runs = Number(process.argv[2] ?? 5);
const threadCounts = (process.argv[3] ?? "1,2").split(",").map(Number);
/** Only the layers of these networks (a comma-separated list: svhn-small, small, paper), default all. */
const networks = process.argv[4]?.split(",");
const N = 50;

for (const threads of threadCounts) {
  const be = await WasmBackend.create({ threads });
  console.log(`${be.description}, batch ${N}, best of ${runs} (ms, GFLOP/s-equivalent):`);
  const rng = new Xoshiro128(12);
  const make = (shape: number[], value: () => number): Tensor => {
    const t = be.alloc(shape);
    be.upload(t, Float32Array.from({ length: t.size }, value));
    return t;
  };
  for (const [net, H, Cin, Cout] of CONV_BENCH_LAYERS.filter(([n]) => !networks || networks.includes(n))) {
    const x = make([N, H, H, Cin], () => Math.max(0, rng.uniform(-1, 1)));
    const dy = make([N, H, H, Cout], () => rng.uniform(-1, 1));
    const dw = be.alloc([3, 3, Cin, Cout]);
    const flops = 2 * N * H * H * Cin * Cout * 9;
    const call = (winograd: boolean) => {
      filterGradientPaths.winograd = winograd;
      be.run("conv2dBackwardFilter", { x, dy, dw, stride: [1, 1], pad: [1, 1] });
    };
    const best = [Infinity, Infinity];
    call(true);
    call(false);
    for (let r = 0; r < runs; r++) {
      [true, false].forEach((winograd, i) => {
        const t0 = performance.now();
        call(winograd);
        best[i] = Math.min(best[i], performance.now() - t0);
      });
    }
    filterGradientPaths.winograd = true;
    const g = (ms: number) => (flops / ms / 1e6).toFixed(1).padStart(6);
    console.log(
      `${net.padEnd(10)} ${String(H).padStart(2)}x${H} ${String(Cin).padStart(3)}->${String(Cout).padEnd(3)} winograd ${best[0].toFixed(2).padStart(7)} ms ${g(best[0])}  direct ${best[1].toFixed(2).padStart(7)} ms ${g(best[1])}  ${(best[1] / best[0]).toFixed(2)}x`,
    );
    for (const t of [x, dy, dw]) be.dispose(t);
  }
  await be.close();
}
