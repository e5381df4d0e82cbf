// Builds the wasm backend's kernels: compiles wasm/index.ts (AssemblyScript) with the asc
// compiler from node_modules and writes the module, base64-encoded, into a generated
// TypeScript file that the backend imports, twice: a baseline SIMD128 module and one built with
// relaxed SIMD (ASC_FEATURE_RELAXED_SIMD: the fused multiply-add f32x4.relaxed_madd in the matrix
// micro-kernel), which the backend prefers where the engine accepts it. Run by `npm run build:wasm` (and so by
// `npm run build` and npm's `prepare`, i.e. during `npm ci`). See wasm/README.md.
import asc from "assemblyscript/asc";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import v8 from "node:v8";
import { fileURLToPath } from "node:url";

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
    "wasm/index.ts",
    "--outFile", `wasm/build/${name}.wasm`,
    "--textFile", `wasm/build/${name}.wat`,
    "-O3", "--noAssert",
    "--runtime", "stub",
    "--use", "abort=",
    "--enable", features,
    "--importMemory", "--sharedMemory",
    "--initialMemory", "1",
    "--maximumMemory", String(MAX_PAGES),
  ];
}

/** Section ids of the binary format that must be absent (data would be rewritten by every thread's instance). */
const FORBIDDEN_SECTIONS = { 11: "data", 8: "start" };

async function main() {
  process.chdir(root); // asc's arguments are relative to the repository root
  await mkdir(outDir, { recursive: true });
  // Node.js 20 (V8 11.3) accepts relaxed SIMD behind this flag; later versions by default.
  v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
  const modules = [];
  for (const variant of VARIANTS) {
    const args = ascArgs(variant);
    const { error, stderr } = await asc.main(args, { stdout: process.stdout, stderr: process.stderr });
    if (error) {
      console.error(`wasm/build.mjs: asc failed on ${variant.name}: ${error.message}\n${stderr.toString()}`);
      process.exit(1);
    }
    const bytes = await readFile(join(outDir, `${variant.name}.wasm`));
    checkSections(bytes);
    await WebAssembly.compile(bytes); // validates with the engine that will run it
    modules.push({ bytes, args });
  }
  await writeFile(generated, moduleSource(modules[0], modules[1]));
  console.log(`wasm/build.mjs: ${modules[0].bytes.length} + ${modules[1].bytes.length} bytes (baseline, relaxed SIMD) -> ${relative(root, generated)}`);
}

/** Fails if the module has a data or start section (the shared memory must not be written at instantiation). */
function checkSections(bytes) {
  let p = 8;
  while (p < bytes.length) {
    const id = bytes[p++];
    let size = 0, shift = 0, b;
    do { b = bytes[p++]; size |= (b & 0x7f) << shift; shift += 7; } while (b & 0x80);
    if (id in FORBIDDEN_SECTIONS) {
      throw new Error(`wasm/build.mjs: the module has a ${FORBIDDEN_SECTIONS[id]} section; kernels must not use static data (strings, arrays) or globals with start code`);
    }
    p += size;
  }
}

function moduleSource(baseline, relaxed) {
  return `// GENERATED FILE - DO NOT EDIT. Made by \`node wasm/build.mjs\` (npm run build:wasm) from
// wasm/index.ts and wasm/kernels/*.ts with:
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
`;
}

await main();
