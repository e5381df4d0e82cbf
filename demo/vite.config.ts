import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

/** The demo page (npm run demo): built into demo/dist with relative paths, then served. */
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
  preview: { host: "127.0.0.1", port: 5173 },
});
