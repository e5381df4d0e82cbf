// Builds the inference module of `binaryconnect/infer`: compiles wasm/infer/index.ts
// (AssemblyScript, SIMD128, no threads) with the asc compiler from node_modules and writes the
// module, base64-encoded, into a generated TypeScript file (so it loads in Node.js and in web
// pages alike, with no file to fetch). Run by `npm run build:wasm` after wasm/build.mjs.
import asc from "assemblyscript/asc";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { ascCommonArgs } from "./asc-args.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const generated = join(root, "src", "infer", "lut.wasm.generated.ts");

const ARGS = [...ascCommonArgs("wasm/infer/index.ts", "infer", "simd"), "--initialMemory", "1"];

async function main() {
  process.chdir(root);
  await mkdir(join(root, "wasm", "build"), { recursive: true });
  const { error, stderr } = await asc.main(ARGS, { stdout: process.stdout, stderr: process.stderr });
  if (error) {
    console.error(`wasm/build-infer.mjs: asc failed: ${error.message}\n${stderr.toString()}`);
    process.exit(1);
  }
  const bytes = await readFile(join(root, "wasm", "build", "infer.wasm"));
  await WebAssembly.compile(bytes); // validates with the engine that will run it
  await writeFile(
    generated,
    `// GENERATED FILE - DO NOT EDIT. Made by \`node wasm/build-infer.mjs\` (npm run build:wasm) from
// wasm/infer/*.ts with: asc ${ARGS.join(" ")}

/** The inference module (${bytes.length} bytes), base64. */
export const INFER_WASM_BASE64 =
  "${Buffer.from(bytes).toString("base64")}";
`,
  );
  console.log(`wasm/build-infer.mjs: ${bytes.length} bytes -> ${relative(root, generated)}`);
}

await main();
