import { CheckpointError } from "../core/errors.js";
import type { Sequential } from "../nn/sequential.js";
import type { NamedArray } from "./checkpoint.js";

/**
 * The tensors of a model as named host arrays: parameter values and batch-norm running
 * statistics, plus (`withOptimizer`) Adam's moments for an exact resume.
 */
export async function readModelState(model: Sequential, withOptimizer: boolean): Promise<NamedArray[]> {
  const out: NamedArray[] = [];
  const add = async (name: string, t: import("../core/tensor.js").Tensor) => {
    out.push({ name, shape: [...t.shape], data: await model.backend.read(t) });
  };
  for (const p of model.params()) {
    await add(p.name, p.value);
    if (withOptimizer) {
      await add(`${p.name}#m`, p.m);
      await add(`${p.name}#v`, p.v);
    }
  }
  for (const b of model.buffers()) await add(b.name, b.tensor);
  return out;
}

/** Uploads named arrays into the model; every tensor the model has must be present with its shape. */
export function writeModelState(model: Sequential, arrays: NamedArray[], withOptimizer: boolean, source: string): void {
  const byName = new Map(arrays.map((a) => [a.name, a]));
  const put = (name: string, t: import("../core/tensor.js").Tensor) => {
    const a = byName.get(name);
    if (!a)
      throw new CheckpointError(`${source}: tensor "${name}" is missing`, "the file was written for another network");
    if (a.data.length !== t.size) {
      throw new CheckpointError(`${source}: tensor "${name}" has shape [${a.shape}], the model expects [${t.shape}]`);
    }
    model.backend.upload(t, a.data);
  };
  for (const p of model.params()) {
    put(p.name, p.value);
    if (withOptimizer) {
      put(`${p.name}#m`, p.m);
      put(`${p.name}#v`, p.v);
    }
  }
  for (const b of model.buffers()) put(b.name, b.tensor);
}
