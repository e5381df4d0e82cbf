import { ShapeError } from "../core/errors.js";
import { rowBytes } from "./bcnet.js";

/**
 * Packs the signs of a weight matrix W [inputs, units] (row-major, as the Dense layer stores
 * it) into the .bcnet bit layout: one row of ceil(inputs / 8) bytes per unit; bit j of byte g
 * of unit n's row is 1 when W[8g + j][n] >= 0 (deterministic binarization: zero maps to +H,
 * paper section 2.3) and 0 otherwise. Bits past `inputs` are 0.
 */
export function packSigns(w: ArrayLike<number>, inputs: number, units: number): Uint8Array {
  if (w.length !== inputs * units)
    throw new ShapeError(`packSigns: expected ${inputs} x ${units} = ${inputs * units} weights, found ${w.length}`);
  const rb = rowBytes(inputs);
  const bits = new Uint8Array(units * rb);
  for (let k = 0; k < inputs; k++) {
    const byte = k >> 3,
      bit = 1 << (k & 7);
    for (let n = 0; n < units; n++) if (w[k * units + n] >= 0) bits[n * rb + byte] |= bit;
  }
  return bits;
}

/** The inverse: W [inputs, units] with +h where the bit is 1 and -h where it is 0. */
export function unpackSigns(bits: Uint8Array, inputs: number, units: number, h = 1): Float32Array {
  const rb = rowBytes(inputs);
  if (bits.length !== units * rb)
    throw new ShapeError(`unpackSigns: expected ${units} x ${rb} bytes, found ${bits.length}`);
  const w = new Float32Array(inputs * units);
  for (let k = 0; k < inputs; k++) {
    const byte = k >> 3,
      bit = 1 << (k & 7);
    for (let n = 0; n < units; n++) w[k * units + n] = bits[n * rb + byte] & bit ? h : -h;
  }
  return w;
}
