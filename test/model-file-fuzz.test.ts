/**
 * Model files whose checksum is valid but whose contents were crafted: every field of the
 * header replaced by values of other types and ranges, tensors renamed, reshaped and dropped.
 * Loading must give a typed error (a BinaryConnectError) or a working model, never a TypeError.
 */
import { describe, expect, it } from "vitest";
import * as bc from "../src/index.js";
import { decodeCheckpoint, encodeCheckpoint, type CheckpointContents } from "../src/train/checkpointFormat.js";
import { smallMlp, toySet } from "./toy-model.js";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Values of other kinds put in place of a field. */
const REPLACEMENTS: Json[] = [null, -1, 0, 1.5, 1e30, "x", "", true, [], [1, 2], {}, { kind: "dense" }];

/** Every path (list of keys) into a JSON value, depth-first. */
function paths(v: Json, prefix: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== "object") return [prefix];
  const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  return [prefix, ...keys.flatMap((k) => paths((v as Record<string, Json>)[k] as Json, [...prefix, k]))];
}

function withValue(root: Json, path: (string | number)[], value: Json | undefined): Json {
  const copy = structuredClone(root);
  if (path.length === 0) return value ?? null;
  let at = copy as Record<string, Json>;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string, Json>;
  const last = path[path.length - 1];
  if (value === undefined) {
    if (Array.isArray(at)) at.splice(Number(last), 1);
    else delete at[last];
  } else at[last] = value;
  return copy;
}

/** What loading the file gives: "ok" (a model that predicts), "typed" (a BinaryConnectError), or the untyped error. */
async function outcome(contents: CheckpointContents<unknown>): Promise<string> {
  const bytes = encodeCheckpoint(contents);
  try {
    const model = await bc.loadModel(bytes);
    await model.predict({ x: new Float32Array(model.inputSize), n: 1 });
    return "ok";
  } catch (e) {
    if (e instanceof bc.BinaryConnectError) return "typed";
    return `${(e as Error).name}: ${(e as Error).message.split("\n")[0]}`;
  }
}

describe("crafted model files with a valid checksum", () => {
  it("every header field replaced, removed or retyped: a typed error or a working model", async () => {
    const model = smallMlp({ backend: "reference" });
    await model.fit(toySet(60), { epochs: 1, batchSize: 20 });
    const original = decodeCheckpoint<Json>(await model.toBytes(), "model");
    const metaPaths = paths(original.meta);
    const untyped: string[] = [];
    let tried = 0;
    for (const [i, path] of metaPaths.entries()) {
      // every path with its removal and two replacements (chosen by position, so each value is used somewhere)
      const values: (Json | undefined)[] = [
        undefined,
        REPLACEMENTS[i % REPLACEMENTS.length],
        REPLACEMENTS[(i * 5 + 3) % REPLACEMENTS.length],
      ];
      for (const value of values) {
        const meta = withValue(original.meta, path, value);
        const got = await outcome({ meta, tensors: original.tensors });
        tried++;
        if (got !== "ok" && got !== "typed") untyped.push(`${path.join(".")} = ${JSON.stringify(value)}: ${got}`);
      }
    }
    expect(tried).toBeGreaterThan(100);
    expect(untyped).toEqual([]);
  });

  it("tensors renamed, reshaped, shortened or dropped: a typed error", async () => {
    const model = smallMlp({ backend: "reference" });
    const original = decodeCheckpoint<Json>(await model.toBytes(), "model");
    const untyped: string[] = [];
    for (const [i, t] of original.tensors.entries()) {
      const variants = [
        { ...t, name: `${t.name}.renamed` },
        { ...t, shape: [...t.shape, 2] },
        { ...t, shape: t.shape.map((d) => d + 1) },
        { ...t, data: t.data.subarray(0, Math.max(0, t.data.length - 1)), shape: [Math.max(0, t.data.length - 1)] },
      ];
      for (const v of variants) {
        const tensors = original.tensors.map((u, j) => (j === i ? v : u));
        const got = await outcome({ meta: original.meta, tensors });
        if (got !== "typed" && got !== "ok") untyped.push(`${t.name} ${JSON.stringify(v.shape)}: ${got}`);
      }
      const got = await outcome({ meta: original.meta, tensors: original.tensors.filter((_, j) => j !== i) });
      if (got !== "typed") untyped.push(`${t.name} dropped: ${got}`);
    }
    expect(untyped).toEqual([]);
  });
});
