// Builds the wasm backend's kernels: compiles wasm/index.ts (AssemblyScript) with the asc
// compiler from node_modules and writes the module, base64-encoded, into a generated
// TypeScript file that the backend imports, twice: a baseline SIMD128 module and one built with
// relaxed SIMD (ASC_FEATURE_RELAXED_SIMD: the fused multiply-add f32x4.relaxed_madd in the matrix
// micro-kernel), which the backend prefers where the engine accepts it. The same file declares
// the module's exports with their parameters (KernelsWasmExports), taken from the
// AssemblyScript sources by asc (--bindings) and checked against both binaries. Run by
// `npm run build:wasm` (and so by `npm run build` and npm's `prepare`, i.e. during `npm ci`).
// See wasm/README.md.
import asc from "assemblyscript/asc";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import v8 from "node:v8";
import { fileURLToPath } from "node:url";
import { ascCommonArgs } from "./asc-args.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "wasm", "build");
const generated = join(root, "src", "backends", "wasm", "kernels.wasm.generated.ts");

/** The module may grow its memory up to 4 GiB (65536 pages); the host picks a lower maximum. */
const MAX_PAGES = 65536;

/** The two builds: name (wasm/build/NAME.wasm and .wat) and the WebAssembly features enabled. */
const VARIANTS = [
  { name: "kernels", features: "simd,threads" },
  { name: "kernels-relaxed", features: "simd,threads,relaxed-simd" },
];

/** The asc command line of one variant. */
function ascArgs({ name, features }) {
  return [
    ...ascCommonArgs("wasm/index.ts", name, features),
    "--sharedMemory",
    "--initialMemory",
    "1",
    "--maximumMemory",
    String(MAX_PAGES),
    // also writes wasm/build/NAME.d.ts, asc's declaration of the exports (names and AssemblyScript
    // types of the parameters), from which exportsSource declares them; the module is unchanged
    "--bindings",
    "raw",
  ];
}

async function main() {
  process.chdir(root); // asc's arguments are relative to the repository root
  await mkdir(outDir, { recursive: true });
  // Node.js 20 (V8 11.3) accepts relaxed SIMD behind this flag; later versions by default.
  v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  const modules = [];
  for (const variant of VARIANTS) {
    const args = ascArgs(variant);
    await rm(join(outDir, `${variant.name}.d.ts`), { force: true }); // never read a stale declaration
    const { error, stderr } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
    if (error) {
      console.error(`wasm/build.mjs: asc failed on ${variant.name}: ${error.message}\n${stderr.toString()}`);
      process.exit(1);
    }
    const bytes = await readFile(join(outDir, `${variant.name}.wasm`));
    const exported = moduleExports(bytes); // also fails on a data or start section
    await WebAssembly.compile(bytes); // validates with the engine that will run it
    const declared = parseDeclarations(
      await readFile(join(outDir, `${variant.name}.d.ts`), "utf8"),
      `wasm/build/${variant.name}.d.ts`,
    );
    checkExports(declared, exported, `wasm/build/${variant.name}.wasm`);
    modules.push({ bytes, args, declared });
  }
  if (JSON.stringify(modules[0].declared) !== JSON.stringify(modules[1].declared)) {
    fail("the baseline and relaxed-SIMD builds declare different exports");
  }
  await writeFile(generated, moduleSource(modules[0], modules[1]));
  console.log(
    `wasm/build.mjs: ${modules[0].bytes.length} + ${modules[1].bytes.length} bytes (baseline, relaxed SIMD), ` +
      `${modules[0].declared.length} exports declared -> ${relative(root, generated)}`,
  );
}

function fail(message) {
  throw new Error(`wasm/build.mjs: ${message}`);
}

/**
 * The value types of WebAssembly for the AssemblyScript types an export may take or return
 * (wasm32: pointers and bools are i32), with the TypeScript type the host passes: a number,
 * except a bool, which the host passes as 0 or 1 (the kernels test it for non-zero), and the
 * 64-bit integers, BigInts.
 */
const AS_TYPES = {
  bool: { wasm: "i32", ts: "0 | 1" },
  ...Object.fromEntries(
    ["i8", "u8", "i16", "u16", "i32", "u32", "isize", "usize"].map((t) => [t, { wasm: "i32", ts: "number" }]),
  ),
  i64: { wasm: "i64", ts: "bigint" },
  u64: { wasm: "i64", ts: "bigint" },
  f32: { wasm: "f32", ts: "number" },
  f64: { wasm: "f64", ts: "number" },
};

/**
 * The exports declared in asc's bindings (wasm/build/NAME.d.ts, `--bindings raw`): for each
 * function, its name, the source file of its definition (e.g. wasm/kernels/adam.ts), its
 * parameters (name and AssemblyScript type) in order and its result type ("void" for none);
 * for the memory, { name, kind: "memory" }. Each declaration reads
 *   /** (newline) * wasm/kernels/adam/adam (newline) * @param param `usize` ... * @returns `i32` *\/
 *   export function adam(param: number, ...): void;
 * and fails the build on anything else (a format that changed with asc, an unknown type).
 */
function parseDeclarations(text, file) {
  const declared = [];
  const block = /\/\*\*([\s\S]*?)\*\/\s*export (function|const) (\w+)([^;]*);/g;
  for (const [, doc, kind, name, rest] of text.matchAll(block)) {
    if (kind === "const") {
      if (name !== "memory" || !/^\s*:\s*WebAssembly\.Memory\s*$/.test(rest))
        fail(`${file}: unexpected export const ${name}${rest}`);
      declared.push({ name, kind: "memory" });
      continue;
    }
    const lines = doc
      .split("\n")
      .map((l) => l.replace(/^\s*\*?\s?/, "").trim())
      .filter((l) => l !== "");
    const element = lines[0] ?? "";
    if (!element.startsWith("wasm/") || !element.endsWith(`/${name}`))
      fail(`${file}: ${name}: no source path in its comment ("${element}")`);
    const params = [];
    let result = "void";
    for (const line of lines.slice(1)) {
      const param = /^@param (\w+) `(\w+)`$/.exec(line),
        returns = /^@returns `(\w+)`$/.exec(line);
      if (param) params.push({ name: param[1], type: param[2] });
      else if (returns) result = returns[1];
      else fail(`${file}: ${name}: unexpected line in its comment: ${line}`);
    }
    const names = /^\(([^)]*)\)\s*:/
      .exec(rest)?.[1]
      .split(",")
      .map((p) => p.trim().split(":")[0].trim())
      .filter((p) => p !== "");
    if (!names || names.join() !== params.map((p) => p.name).join()) {
      fail(`${file}: ${name}: the parameters (${names}) differ from the @param lines (${params.map((p) => p.name)})`);
    }
    for (const t of [...params.map((p) => p.type), ...(result === "void" ? [] : [result])]) {
      if (!(t in AS_TYPES))
        fail(`${file}: ${name}: type ${t} cannot cross to the host (known: ${Object.keys(AS_TYPES).join(", ")})`);
    }
    declared.push({ name, kind: "function", source: `${element.slice(0, -name.length - 1)}.ts`, params, result });
  }
  if (declared.length === 0) fail(`${file}: no exports declared (has asc's bindings format changed?)`);
  return declared;
}

/** Section ids of the binary format that must be absent (data would be rewritten by every thread's instance). */
const FORBIDDEN_SECTIONS = { 11: "data", 8: "start" };
const VALUE_TYPES = {
  127: "i32",
  126: "i64",
  125: "f32",
  124: "f64",
  123: "v128",
  112: "funcref",
  111: "externref",
};
const EXPORT_KINDS = ["function", "table", "memory", "global", "tag"];

/**
 * The exports of a module from its binary: name, kind, and for functions the value types of the
 * parameters and results (from the type, import, function and export sections). Fails if the
 * module has a data or start section (the shared memory must not be written at instantiation).
 */
function moduleExports(bytes) {
  let p = 8;
  const u32 = () => {
    let value = 0,
      shift = 0,
      b;
    do {
      b = bytes[p++];
      value += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return value;
  };
  const name = () => {
    const n = u32();
    p += n;
    return Buffer.from(bytes.subarray(p - n, p)).toString("utf8");
  };
  const valueTypes = () => Array.from({ length: u32() }, () => VALUE_TYPES[bytes[p++]] ?? "?");
  const limits = () => {
    const flags = bytes[p++];
    u32();
    if (flags & 1) u32();
  };
  const types = [],
    functions = [],
    exports = [];
  while (p < bytes.length) {
    const id = bytes[p++],
      size = u32(),
      end = p + size;
    if (id in FORBIDDEN_SECTIONS) {
      fail(
        `the module has a ${FORBIDDEN_SECTIONS[id]} section; kernels must not use static data (strings, arrays) or globals with start code`,
      );
    }
    if (id === 1) {
      // types
      for (let n = u32(); n > 0; n--) {
        if (bytes[p++] !== 0x60) fail("unexpected entry in the type section");
        types.push({ params: valueTypes(), results: valueTypes() });
      }
    } else if (id === 2) {
      // imports: imported functions come first in the function index space
      for (let n = u32(); n > 0; n--) {
        name();
        name();
        const kind = bytes[p++];
        if (kind === 0) functions.push(u32());
        else if (kind === 1) {
          p++;
          limits();
        } else if (kind === 2) limits();
        else if (kind === 3) p += 2;
        else fail(`unexpected import kind ${kind}`);
      }
    } else if (id === 3) {
      // functions: their type indices
      for (let n = u32(); n > 0; n--) functions.push(u32());
    } else if (id === 7) {
      for (let n = u32(); n > 0; n--) {
        const exportName = name(),
          kind = EXPORT_KINDS[bytes[p++]] ?? "?",
          index = u32();
        exports.push(
          kind === "function" ? { name: exportName, kind, ...types[functions[index]] } : { name: exportName, kind },
        );
      }
    }
    p = end;
  }
  return exports;
}

/**
 * Fails unless the declarations and the binary's exports match: the same names and kinds, and
 * for each function as many parameters, of the same value types, and the same result.
 */
function checkExports(declared, exported, file) {
  const byName = new Map(declared.map((d) => [d.name, d]));
  for (const e of exported) {
    const d = byName.get(e.name);
    if (!d) fail(`${file} exports ${e.name} (${e.kind}), which has no declaration`);
    if (d.kind !== e.kind) fail(`${file}: ${e.name} is a ${e.kind}, declared as a ${d.kind}`);
    byName.delete(e.name);
    if (e.kind !== "function") continue;
    const want = d.params.map((q) => AS_TYPES[q.type].wasm),
      results = d.result === "void" ? [] : [AS_TYPES[d.result].wasm];
    if (want.length !== e.params.length) {
      fail(
        `${file}: ${e.name} takes ${e.params.length} parameters, ${d.source} declares ${want.length} (${d.params.map((q) => q.name).join(", ")})`,
      );
    }
    if (want.join() !== e.params.join() || results.join() !== e.results.join()) {
      fail(
        `${file}: ${e.name} is (${e.params.join(", ")}) -> (${e.results.join(", ")}), ${d.source} declares (${want.join(", ")}) -> (${results.join(", ")})`,
      );
    }
  }
  for (const name of byName.keys()) fail(`${name} is declared, but ${file} does not export it`);
}

function moduleSource(baseline, relaxed) {
  return `// GENERATED FILE - DO NOT EDIT. Made by \`node wasm/build.mjs\` (npm run build:wasm) from
// wasm/index.ts and wasm/kernels/*.ts (the modules, and the declaration of their exports) with:
//   asc ${baseline.args.join(" ")}
//   asc ${relaxed.args.join(" ")}

/** The kernels' WebAssembly module, SIMD128 only (${baseline.bytes.length} bytes), base64. */
export const KERNELS_WASM_BASE64 =
  "${baseline.bytes.toString("base64")}";

/** The same kernels built with relaxed SIMD (fused multiply-add; ${relaxed.bytes.length} bytes), base64. */
export const KERNELS_RELAXED_WASM_BASE64 =
  "${relaxed.bytes.toString("base64")}";

/** The maximum memory the module accepts, in pages of 64 KiB. */
export const KERNELS_WASM_MAX_PAGES = ${MAX_PAGES};
${exportsSource(baseline.declared)}`;
}

/** The TypeScript declaration of the exports (the same in both modules: checked by main). */
function exportsSource(declared) {
  const used = new Set(
    declared.flatMap((d) => (d.kind === "function" ? [...d.params.map((p) => p.type), d.result] : [])),
  );
  const aliases = Object.entries(AS_TYPES)
    .filter(([t]) => used.has(t))
    .map(([t, { ts }]) => `export type ${t} = ${ts};`);
  const members = declared.map((d) =>
    d.kind === "memory"
      ? // no WebAssembly type: the shipped declarations must type-check without the DOM library
        "  /** The imported memory (a WebAssembly.Memory), exported again. */\n  readonly memory: object;"
      : `  /** ${d.source} */\n  ${d.name}(${d.params.map((p) => `${p.name}: ${p.type}`).join(", ")}): ${d.result};`,
  );
  return `
/**
 * The AssemblyScript types of the exports' parameters and results, as the host passes them
 * (usize: a byte offset into the memory; bool: 0 or 1).
 */
${aliases.join("\n")}

/**
 * The module's exports (both builds'), declared from the AssemblyScript sources (asc's
 * bindings of wasm/index.ts) and checked against each binary's export and type sections: each
 * function with its parameters, named, typed and in order as in the source file named above it.
 */
export interface KernelsWasmExports {
${members.join("\n")}
}
`;
}

await main();
