/**
 * The convolutions' products in training on the wasm backend: conv2d and conv2dBackwardInput
 * with binary filters (+-H, the training step's Wb) by Winograd's F(4x4, 3x3)
 * (wasm/kernels/convWinogradProduct.ts) against the route it replaces (the lookup tables,
 * additions only, where they apply, else the float product), on every 3x3 layer of the CIFAR-10
 * paper network and of cifar10-small (and the first two of svhn-small) at batch 50, on 1 and 2
 * threads. Runs interleaved (Winograd, other, Winograd, ...), the best of each kept: the machines
 * are shared. Usage (after `npm run build`):
 *
 *   node dist/bench/conv-winograd.js [runs] [threads, e.g. 1,2] [networks, e.g. small,paper]
 *
 * Prints per layer and kernel: ms and GFLOP/s-equivalent (2 N Ho Wo Cin Cout 9 / time) of each,
 * and the speed-up. Used to set the sizes from which the wasm backend takes Winograd's product
 * (src/backends/wasm/kernels/convWinogradProduct.ts).
 */
import { convProductPaths } from "../src/backends/wasm/kernels/convWinogradProduct.js";
import { forEachConvLayer, layerLabel, timePair } from "./conv-layers.js";

await forEachConvLayer(13, ({ be, rng, make, N, runs }, layer) => {
  const { H, Cin, Cout } = layer;
  const x = make([N, H, H, Cin], () => Math.max(0, rng.uniform(-1, 1)));
  const dy = make([N, H, H, Cout], () => rng.uniform(-1, 1));
  const w = make([3, 3, Cin, Cout], () => (rng.next() < 0.5 ? -0.04 : 0.04));
  const out = be.alloc([N, H, H, Cout]),
    dx = be.alloc([N, H, H, Cin]);
  const geometry = { stride: [1, 1], pad: [1, 1] } as const;
  const flops = 2 * N * H * H * Cin * Cout * 9;
  const calls = {
    conv2d: () => be.run("conv2d", { x, w, out, ...geometry }),
    conv2dBackwardInput: () => be.run("conv2dBackwardInput", { dy, w, dx, ...geometry }),
  };
  for (const [name, call] of Object.entries(calls)) {
    const routed = (winograd: boolean) => {
      convProductPaths.winograd = winograd;
      call();
    };
    console.log(
      timePair(runs, routed, [true, false], ["winograd", "other"], `${layerLabel(layer)} ${name.padEnd(19)}`, flops),
    );
  }
  convProductPaths.winograd = true;
  for (const t of [x, dy, w, out, dx]) be.dispose(t);
});
