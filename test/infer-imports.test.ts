/**
 * binaryconnect/infer must stay small and run in web pages: its import graph (from
 * src/infer/index.ts) holds no training code, no Node API and no package.
 */
import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(new URL("..", import.meta.url).pathname);
const ENTRY = join(ROOT, "src/infer/index.ts");
/** Folders the entry may reach: the engine, the model format, the typed errors, base64 decoding. */
const ALLOWED = ["src/infer/", "src/format/", "src/core/errors.ts", "src/core/base64.ts"];

/** Every module specifier of a TypeScript source (imports, re-exports, dynamic imports; comments ignored), by TypeScript's own scanner. */
function specifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** The files reachable from `entry` and every non-relative specifier met on the way. */
function walk(entry: string): { files: string[]; external: string[] } {
  const seen = new Set<string>(),
    external = new Set<string>();
  const stack = [entry];
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const spec of specifiers(readFileSync(file, "utf8"))) {
      if (!spec.startsWith(".")) external.add(spec);
      else stack.push(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
    }
  }
  return { files: [...seen].map((f) => relative(ROOT, f)).sort(), external: [...external] };
}

describe("binaryconnect/infer import graph", () => {
  it("finds imports of every form (the walker itself)", () => {
    const src = `import { a } from "./a.js";\nimport type { B } from "../b.js";\nexport { c } from "./c.js";\nexport * from "./d.js";\nimport "./e.js";\nconst f = await import("./f.js");\nimport {\n  g,\n} from "node:fs";\n/** import { x } from "in-a-comment"; */`;
    expect(specifiers(src).sort()).toEqual(["../b.js", "./a.js", "./c.js", "./d.js", "./e.js", "./f.js", "node:fs"]);
  });

  it("reaches only src/infer, src/format and src/core/errors.ts: no training code, no node: module, no package", () => {
    const { files, external } = walk(ENTRY);
    expect(files).toContain("src/infer/classifier.ts");
    expect(files).toContain("src/format/decode.ts");
    expect(files).toContain("src/infer/lut.wasm.generated.ts");
    const outside = files.filter((f) => !ALLOWED.some((a) => f === a || f.startsWith(a)));
    expect(outside).toEqual([]);
    expect(external).toEqual([]);
    for (const f of files) expect(f).not.toMatch(/\.test\.ts$/);
  });

  it("is exported as binaryconnect/infer", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { exports: Record<string, string> };
    expect(pkg.exports["./infer"]).toEqual({
      types: "./dist/src/infer/index.d.ts",
      default: "./dist/src/infer/index.js",
    });
  });
});
