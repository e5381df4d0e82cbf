/// <reference types="@webgpu/types" />

/**
 * Released storage buffers kept for reuse, by exact byte size, up to `capBytes` in all: the
 * training loop and evaluation allocate and free the same shapes every batch. A reused
 * buffer may still be read by commands already recorded; that is safe because the queue
 * runs commands in order and the new owner's zero-fill is recorded after them.
 */
export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private bytes = 0;

  constructor(private readonly capBytes: number) {}

  take(size: number): GPUBuffer | undefined {
    const list = this.free.get(size);
    const buf = list?.pop();
    if (buf) this.bytes -= size;
    return buf;
  }

  /** Keeps the buffer for reuse; false when the pool is full (the caller destroys it). */
  put(buf: GPUBuffer): boolean {
    if (this.bytes + buf.size > this.capBytes) return false;
    let list = this.free.get(buf.size);
    if (!list) this.free.set(buf.size, (list = []));
    list.push(buf);
    this.bytes += buf.size;
    return true;
  }

  /** Every pooled buffer (emptying the pool). */
  drain(): GPUBuffer[] {
    const all = [...this.free.values()].flat();
    this.free.clear();
    this.bytes = 0;
    return all;
  }
}
