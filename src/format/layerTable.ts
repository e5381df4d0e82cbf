import { ShapeError } from "../core/errors.js";
import {
  ACTIVATIONS,
  LAYER_KIND_BINARY_CONV,
  LAYER_KIND_BINARY_DENSE,
  LAYER_KIND_MAX_POOL,
  type BcnetVersion,
} from "./bcnet.js";
import type { LayerEntry } from "./chain.js";
import type { Pair } from "./shapes.js";

/**
 * One entry of the layer table (docs/FORMAT.md, "Layout"). Version 1: 16 bytes, u32 kind (1),
 * units, activation, reserved. Version 2: 32 bytes,
 *   0  u32 kind (1 binary dense, 2 binary convolution, 3 max pooling)
 *   4  u32 units (dense) / filters (conv) / 0
 *   8  u32 activation (0 identity, 1 ReLU; max pooling: 0)
 *   12 u16 x 2 kernel (conv) / window (max pooling) [rows, cols]; dense: 0
 *   16 u16 x 2 stride; dense: 0
 *   20 u16 x 2 padding (conv); otherwise 0
 *   24 u16 x 2 the conv's pooling window (0 0: none); otherwise 0
 *   28 u16 x 2 the conv's pooling stride (0 0 with no pooling); otherwise 0
 * Fields a kind does not use must be 0.
 */
export function readEntry(
  view: DataView,
  at: number,
  version: BcnetVersion,
  index: number,
  fail: (what: string) => never,
): LayerEntry {
  const u32 = (o: number) => view.getUint32(at + o, true);
  const pair = (o: number): Pair => [view.getUint16(at + o, true), view.getUint16(at + o + 2, true)];
  const kind = u32(0),
    n = u32(4),
    act = u32(8);
  const kinds =
    version === 1 ? [LAYER_KIND_BINARY_DENSE] : [LAYER_KIND_BINARY_DENSE, LAYER_KIND_BINARY_CONV, LAYER_KIND_MAX_POOL];
  if (!kinds.includes(kind)) {
    fail(
      version === 1
        ? `layer ${index} has kind ${kind}; version 1 knows kind ${LAYER_KIND_BINARY_DENSE} (binary dense) only`
        : `layer ${index} has kind ${kind}; version 2 knows kinds 1 (binary dense), 2 (binary convolution) and 3 (max pooling)`,
    );
  }
  if (act >= ACTIVATIONS.length) fail(`layer ${index} has activation ${act}; expected 0 (identity) or 1 (relu)`);
  const zero = (from: number, what: string) => {
    for (let o = from; o < (version === 1 ? 16 : 32); o += 4)
      if (u32(o) !== 0)
        fail(`layer ${index}: ${what} bytes ${o}..${(version === 1 ? 16 : 32) - 1} of its entry are not zero`);
  };
  const activation = ACTIVATIONS[act];
  if (kind === LAYER_KIND_BINARY_DENSE) {
    zero(12, "reserved");
    return { kind: "dense", units: n, activation };
  }
  if (kind === LAYER_KIND_MAX_POOL) {
    if (n !== 0 || act !== 0) fail(`layer ${index} (maxpool): units and activation must be 0, found ${n} and ${act}`);
    zero(20, "the unused");
    return { kind: "maxpool", window: pair(12), stride: pair(16) };
  }
  const poolWindow = pair(24),
    poolStride = pair(28);
  const pooled = poolWindow[0] !== 0 || poolWindow[1] !== 0 || poolStride[0] !== 0 || poolStride[1] !== 0;
  return {
    kind: "conv",
    filters: n,
    activation,
    kernel: pair(12),
    stride: pair(16),
    pad: pair(20),
    pool: pooled ? { window: poolWindow, stride: poolStride } : null,
  };
}

/** Writes an entry (the inverse of readEntry; fields are within range: chainLayers checked them). */
export function writeEntry(view: DataView, at: number, version: BcnetVersion, e: LayerEntry): void {
  const u32 = (o: number, v: number) => view.setUint32(at + o, v, true);
  const pair = (o: number, p: Pair) => {
    view.setUint16(at + o, p[0], true);
    view.setUint16(at + o + 2, p[1], true);
  };
  switch (e.kind) {
    case "dense":
      u32(0, LAYER_KIND_BINARY_DENSE);
      u32(4, e.units);
      u32(8, ACTIVATIONS.indexOf(e.activation));
      return;
    case "maxpool":
      if (version === 1) throw new ShapeError("writeEntry: version 1 has no max pooling"); // formatVersionOf never asks this
      u32(0, LAYER_KIND_MAX_POOL);
      pair(12, e.window);
      pair(16, e.stride);
      return;
    case "conv":
      if (version === 1) throw new ShapeError("writeEntry: version 1 has no convolutions");
      u32(0, LAYER_KIND_BINARY_CONV);
      u32(4, e.filters);
      u32(8, ACTIVATIONS.indexOf(e.activation));
      pair(12, e.kernel);
      pair(16, e.stride);
      pair(20, e.pad);
      if (e.pool) {
        pair(24, e.pool.window);
        pair(28, e.pool.stride);
      }
      return;
  }
}
