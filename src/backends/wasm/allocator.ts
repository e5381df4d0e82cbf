import { BackendError } from "../../core/errors.js";

/** Every block starts on a cache line (and so is aligned for v128 loads). */
export const ALIGN = 64;

interface Block {
  ptr: number;
  bytes: number;
}

/**
 * A first-fit free-list allocator over a byte range [base, limit) of a linear memory. Freed
 * blocks are merged with their free neighbours; a free block at the top lowers the top. The
 * memory itself is grown on demand through `ensure(end)` (called with the new top before it is
 * used). Knows nothing of WebAssembly, so it is tested on its own.
 */
export class Allocator {
  /** Free blocks below `top`, sorted by address, never adjacent (merged). */
  private readonly free: Block[] = [];
  /** Live blocks: pointer -> size in bytes. */
  private readonly live = new Map<number, number>();
  private top: number;

  constructor(
    base: number,
    /** One past the last byte the allocator may use. */
    private readonly limit: number,
    /** Makes bytes [0, end) usable (grows the memory); may throw. */
    private readonly ensure: (end: number) => void,
  ) {
    this.top = alignUp(base);
  }

  /** A block of at least `bytes` bytes, aligned to ALIGN (contents unspecified). */
  alloc(bytes: number): number {
    const size = alignUp(Math.max(bytes, 1));
    const ptr = this.takeFree(size) ?? this.takeTop(size);
    this.live.set(ptr, size);
    return ptr;
  }

  /** Returns a block to the free list. */
  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new BackendError(`wasm allocator: ${ptr} is not a live block`, "was it freed twice?");
    this.live.delete(ptr);
    this.insertFree({ ptr, bytes: size });
  }

  /** Bytes in live blocks. */
  get usedBytes(): number {
    let n = 0;
    for (const size of this.live.values()) n += size;
    return n;
  }

  /** One past the end of the highest block (live or free); the bytes above are unused. */
  get topBytes(): number {
    return this.top;
  }

  private takeFree(size: number): number | undefined {
    const i = this.free.findIndex((b) => b.bytes >= size);
    if (i < 0) return undefined;
    const b = this.free[i];
    if (b.bytes === size) this.free.splice(i, 1);
    else this.free[i] = { ptr: b.ptr + size, bytes: b.bytes - size };
    return b.ptr;
  }

  private takeTop(size: number): number {
    const ptr = this.top,
      end = ptr + size;
    if (end > this.limit) {
      throw new BackendError(
        `wasm backend out of memory: ${size} more bytes needed, ${this.usedBytes} in use, limit ${this.limit} bytes (${(this.limit / 2 ** 20).toFixed(0)} MiB)`,
        "dispose tensors that are no longer needed, use a smaller batch, or raise maxMemoryMiB in WasmBackend.create",
      );
    }
    this.ensure(end);
    this.top = end;
    return ptr;
  }

  private insertFree(block: Block): void {
    const free = this.free;
    let i = 0;
    while (i < free.length && free[i].ptr < block.ptr) i++;
    free.splice(i, 0, block);
    // merge with the next block, then with the previous one
    if (i + 1 < free.length && block.ptr + block.bytes === free[i + 1].ptr) {
      block.bytes += free[i + 1].bytes;
      free.splice(i + 1, 1);
    }
    if (i > 0 && free[i - 1].ptr + free[i - 1].bytes === block.ptr) {
      free[i - 1].bytes += block.bytes;
      free.splice(i, 1);
      i--;
    }
    // a free block at the top gives its bytes back to the top
    const last = free[free.length - 1];
    if (last.ptr + last.bytes === this.top) {
      this.top = last.ptr;
      free.pop();
    }
  }
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
