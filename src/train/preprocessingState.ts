/**
 * A fitted Preprocessing as checkpoint contents: its shape and each step's numbers in the
 * checkpoint's JSON metadata, each step's arrays (mean, P) as tensors named
 * "preprocess.<step>.<field>". Browser-safe.
 */
import { CheckpointError } from "../core/errors.js";
import type { Preprocessing, PreprocessStep } from "../data/preprocessing.js";
import type { NamedArray } from "./checkpointFormat.js";

/** The JSON part of a saved preprocessing: array fields are left out (they are tensors). */
export interface PreprocessingMeta {
  shape: number[];
  steps: Record<string, unknown>[];
}

const ARRAY_FIELDS = ["mean", "P"] as const;

export function preprocessingToState(p: Preprocessing): { meta: PreprocessingMeta; tensors: NamedArray[] } {
  const tensors: NamedArray[] = [];
  const steps = p.steps.map((step, i) => {
    const json: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(step)) {
      if (value instanceof Float32Array)
        tensors.push({ name: `preprocess.${i}.${key}`, shape: [value.length], data: value });
      else json[key] = value;
    }
    return json;
  });
  return { meta: { shape: [...p.shape], steps }, tensors };
}

export function preprocessingFromState(
  meta: PreprocessingMeta,
  tensors: readonly NamedArray[],
  source: string,
): Preprocessing {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const steps = meta.steps.map((json, i) => {
    const step: Record<string, unknown> = { ...json };
    for (const field of ARRAY_FIELDS) {
      const t = byName.get(`preprocess.${i}.${field}`);
      if (t) step[field] = Float32Array.from(t.data);
    }
    const needs = step.kind === "subtractMean" ? ["mean"] : step.kind === "zca" ? ["mean", "P"] : [];
    for (const field of needs)
      if (!(step[field] instanceof Float32Array))
        throw new CheckpointError(`${source}: preprocessing step ${i} (${String(step.kind)}) has no "${field}" tensor`);
    return step as unknown as PreprocessStep;
  });
  return { shape: [...meta.shape], steps };
}
