// The asc command line that both WebAssembly builds share (build.mjs: the wasm backend's
// kernels; build-infer.mjs: the module of `binaryconnect/infer`), so that they compile alike.

/**
 * asc's arguments for the module whose source is `entry`, written to wasm/build/NAME.wasm (and
 * NAME.wat, to read): optimised for speed, without assertions, with the stub runtime (no
 * garbage collector) and no abort import, the WebAssembly `features` enabled (asc's --enable),
 * and the memory imported from the host. Each build appends its own memory options.
 */
export function ascCommonArgs(entry, name, features) {
  return [
    entry,
    "--outFile",
    `wasm/build/${name}.wasm`,
    "--textFile",
    `wasm/build/${name}.wat`,
    "-O3",
    "--noAssert",
    "--runtime",
    "stub",
    "--use",
    "abort=",
    "--enable",
    features,
    "--importMemory",
  ];
}
