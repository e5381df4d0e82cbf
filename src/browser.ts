/**
 * binaryconnect in a web page: the library's API (src/library.ts) with the browser-safe data
 * helpers; models are saved to IndexedDB or downloads (model.save("indexeddb://NAME")).
 */
export * from "./library.js";
export * as data from "./api/data.js";
