import type { Tensor } from "../../../core/tensor.js";
import type { WebGpuBackend } from "../index.js";
import { bindings, program, type Program, type TensorBinding } from "../program.js";
import { gemmWgsl, splitReduceWgsl, type MatmulTile } from "../wgsl/gemm.js";
import { dispatchElementwise, elementwiseProgram } from "./launch.js";

/** The tile shapes (wgsl/gemm.ts): block of out per workgroup, slab depth, outputs per invocation. */
export const MATMUL_TILES = {
  "128x128": { BM: 128, BN: 128, BK: 8, TM: 8, TN: 8 }, // 256 invocations, 64 outputs each
  "64x64": { BM: 64, BN: 64, BK: 16, TM: 4, TN: 4 }, // 256 invocations, 16 outputs each
  "32x32": { BM: 32, BN: 32, BK: 16, TM: 4, TN: 4 }, // 64 invocations, 16 outputs each
} as const satisfies Record<string, MatmulTile>;
export type MatmulTileName = keyof typeof MATMUL_TILES;

const groupsOf = (M: number, N: number, t: MatmulTile) => Math.ceil(M / t.BM) * Math.ceil(N / t.BN);

/** When split K may apply: "long" sums only (K >= 4096: convolution weight gradients; the default), "auto" (K >= 512), or "off". */
export type SplitKPolicy = "long" | "auto" | "off";
const SPLIT_MIN_K: Record<SplitKPolicy, number> = { long: 4096, auto: 512, off: Infinity };

/**
 * "auto": the largest tile that still gives enough workgroups to fill a large GPU (a few per
 * compute unit; an H100 has 132): 128x128 from 256 workgroups, 64x64 from 128 - or fewer
 * when K >= 512 and split K is on, which makes up the workgroups (pickSplitK) - else 32x32.
 */
export function pickMatmulTile(
  M: number,
  N: number,
  K: number,
  choice: MatmulTileName | "auto",
  splitK: SplitKPolicy = "long",
): MatmulTileName {
  if (choice !== "auto") return choice;
  if (groupsOf(M, N, MATMUL_TILES["128x128"]) >= 256) return "128x128";
  if (groupsOf(M, N, MATMUL_TILES["64x64"]) >= 128 || K >= SPLIT_MIN_K[splitK]) return "64x64";
  return "32x32";
}

/**
 * Split K for a skinny product (few output blocks, long sums: a convolution's weight gradient,
 * K = N Ho Wo; 200x1024x1024 at batch 200): up to 8 parts of >= 256 terms, enough for ~256
 * workgroups; 1 (no split) from 128 workgroups or below the policy's K.
 *
 * The default policy splits only very long sums (K >= 4096): splitting changes the order of
 * each sum, and BinaryConnect training amplifies rounding differences - after batch norm some
 * weight gradients are sums that cancel to rounding noise (inputs constant over the batch),
 * and Adam's first steps turn their sign into full-size updates - so with "auto" (K >= 512) a
 * det MLP run leaves the reference backend's trajectory within an epoch
 * (test/webgpu-train.test.ts), where the plain order follows it to ~1e-7.
 */
export function pickSplitK(M: number, N: number, K: number, tile: MatmulTileName, choice: SplitKPolicy): number {
  const groups = groupsOf(M, N, MATMUL_TILES[tile]);
  if (groups >= 128 || K < SPLIT_MIN_K[choice]) return 1;
  return Math.max(1, Math.min(8, Math.floor(K / 256), Math.ceil(256 / groups)));
}

/** One operand variant of the tiled product: how A and B are read, and the program's bindings and parameters. */
export interface GemmOperands {
  /** Key of the variant, e.g. "matmul(A^T)". */
  readonly key: string;
  readonly params: Program["params"];
  readonly tensors: readonly TensorBinding[];
  readonly loaders: () => string;
  readonly aAlongM: boolean;
  readonly bAlongN: boolean;
  readonly accumulate: boolean;
}

/**
 * Dispatches out[M,N] = A.B (+ out) with the tile (and split K) that `be.matmulTile` and
 * `be.matmulSplitK` pick. `params` must start with M, N, K; the last tensor binding is the
 * output. With split K, the partial blocks go to a scratch tensor that a second dispatch adds up.
 */
export function dispatchGemm(
  be: WebGpuBackend,
  ops: GemmOperands,
  tensors: readonly Tensor[],
  params: readonly number[],
): void {
  const [M, N, K] = params;
  if (M === 0 || N === 0) return;
  const name = pickMatmulTile(M, N, K, be.matmulTile, be.matmulSplitK);
  const tile = MATMUL_TILES[name];
  const split = pickSplitK(M, N, K, name, be.matmulSplitK);
  const padded = 2 * 4 * tile.BK * (tile.BM + tile.BN + 8);
  const pad = padded <= be.maxWorkgroupBytes ? 4 : 0;
  const grid = [Math.ceil(N / tile.BN), Math.ceil(M / tile.BM)];
  const output = ops.tensors[ops.tensors.length - 1].name;
  const variant = `${name}${pad ? "" : ",nopad"}`;
  if (split === 1) {
    const prog = program(`${ops.key}[${variant}${ops.accumulate ? ",+=" : ""}]`, ops.params, ops.tensors, () =>
      gemmWgsl({
        tile,
        loaders: ops.loaders(),
        aAlongM: ops.aAlongM,
        bAlongN: ops.bAlongN,
        accumulate: ops.accumulate,
        output,
        split: false,
        pad,
      }),
    );
    be.dispatch(prog, tensors, params, grid);
    return;
  }
  const chunk = Math.ceil(K / split / tile.BK) * tile.BK;
  const parts = Math.ceil(K / chunk);
  const prog = program(
    `${ops.key}[${variant},split]`,
    [...ops.params, ["kChunk", "u32"]],
    [...ops.tensors.slice(0, -1), { name: "partial", write: true }],
    () =>
      gemmWgsl({
        tile,
        loaders: ops.loaders(),
        aAlongM: ops.aAlongM,
        bAlongN: ops.bAlongN,
        accumulate: false,
        output: "partial",
        split: true,
        pad,
      }),
  );
  const partial = be.scratch([parts, M, N]);
  be.dispatch(prog, [...tensors.slice(0, -1), partial], [...params, chunk], [...grid, parts]);
  dispatchElementwise(be, SPLIT_REDUCE[ops.accumulate ? 1 : 0], [partial, tensors[tensors.length - 1]], M * N, [parts]);
  be.dispose(partial);
}

const SPLIT_REDUCE = [false, true].map((accumulate) =>
  elementwiseProgram(`splitReduce${accumulate ? "(+=)" : ""}`, [["S", "u32"]], bindings(["partial"], ["out"]), () =>
    splitReduceWgsl(accumulate),
  ),
);
