/**
 * The fingerprint of a run's training data (browser-safe): CRC-32 of its labels and of at most
 * ~4 MB of its values taken at a fixed stride (all of them for small sets), with the counts.
 * Computed once per set object (an array changed in place after a fit keeps its first fingerprint).
 * Equal data gives equal fingerprints; a different set (other images, other order, another
 * size) is told apart with near certainty, in a few milliseconds for full MNIST.
 */
import { crc32 } from "../format/crc32.js";
import type { DataIdentity } from "./config.js";
import type { LabeledSet } from "./dataset.js";

const SAMPLE_VALUES = 1 << 18;

/** Fingerprints already computed, per set (fit called again on the same data does not redo it). */
const known = new WeakMap<LabeledSet, string>();

export function dataFingerprint(set: LabeledSet): string {
  const cached = known.get(set);
  if (cached) return cached;
  const fingerprint = computeFingerprint(set);
  known.set(set, fingerprint);
  return fingerprint;
}

function computeFingerprint(set: LabeledSet): string {
  const labels = new Uint8Array(set.y.buffer, set.y.byteOffset, set.y.byteLength);
  let sample: Float32Array;
  const total = set.n * set.features;
  if (set.example) {
    // computed sets (SVHN): the first examples
    const rows = Math.min(set.n, Math.max(1, Math.floor(SAMPLE_VALUES / set.features)));
    sample = new Float32Array(rows * set.features);
    for (let i = 0; i < rows; i++) set.example(i, sample, i * set.features);
  } else if (total <= SAMPLE_VALUES) {
    sample = set.x.subarray(0, total);
  } else {
    const stride = Math.ceil(total / SAMPLE_VALUES);
    sample = new Float32Array(Math.ceil(total / stride));
    for (let i = 0, j = 0; i < total; i += stride) sample[j++] = set.x[i];
  }
  const a = crc32(labels),
    b = crc32(new Uint8Array(sample.buffer, sample.byteOffset, sample.byteLength));
  return `${a.toString(16).padStart(8, "0")}${b.toString(16).padStart(8, "0")}`;
}

export function dataIdentity(set: LabeledSet, dir?: string): DataIdentity {
  return { ...(dir ? { dir } : {}), train: { n: set.n, features: set.features, fingerprint: dataFingerprint(set) } };
}

/** Why `given` is not the data of `saved`, or null when it is. */
export function dataDifference(saved: DataIdentity, given: DataIdentity): string | null {
  const s = saved.train,
    g = given.train;
  if (s.n !== g.n) return `the run trained on ${s.n} examples, this data has ${g.n}`;
  if (s.features !== g.features) return `the run's examples have ${s.features} values, this data's ${g.features}`;
  if (s.fingerprint !== g.fingerprint)
    return `the same number of examples (${s.n}) but other values or labels (fingerprint ${s.fingerprint}, this data ${g.fingerprint})`;
  return null;
}
