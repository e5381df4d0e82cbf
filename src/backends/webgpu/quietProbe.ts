import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { probeWebGpu } from "./adapter.js";

/** What probeWebGpu found: an adapter's label and kind, or why there is none. */
export type ProbeResult = Awaited<ReturnType<typeof probeWebGpu>>;

/**
 * Node.js only: probeWebGpu in a child process, so that what Dawn and the Vulkan loader print
 * while they look for a GPU (driver warnings, "XDG_RUNTIME_DIR is invalid", source paths of
 * Dawn's build) stays out of the terminal of a machine without one. With `verbose`, the child's
 * output is passed through. Undefined when the probe cannot run this way (the module is not
 * compiled JavaScript, or the child failed): the caller then probes in its own process.
 */
export async function probeWebGpuQuietly(verbose: boolean): Promise<ProbeResult | undefined> {
  const adapterUrl = new URL("./adapter.js", import.meta.url);
  if (adapterUrl.protocol !== "file:" || !existsSync(fileURLToPath(adapterUrl))) return undefined;
  const script =
    `const { probeWebGpu } = await import(${JSON.stringify(adapterUrl.href)});` +
    "process.stdout.write(JSON.stringify(await probeWebGpu()));process.exit(0);";
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", verbose ? "inherit" : "ignore"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.on("error", () => resolve(undefined));
    child.on("close", (code) => {
      try {
        resolve(code === 0 ? (JSON.parse(out) as ProbeResult) : undefined);
      } catch {
        resolve(undefined);
      }
    });
  });
}
