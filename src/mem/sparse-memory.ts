import type { PhysicalStore } from './store.js';

/** Accesses up to this many bytes per chunk are copied byte by byte: no view is allocated. */
const SMALL_COPY = 256;

/**
 * A sparse backing store for one physical region: fixed-size chunks allocated on first write, so
 * a 64 GiB region costs a Map entry per touched chunk and nothing more. Never-written bytes read
 * as zeros, and reading them allocates nothing.
 *
 * Each chunk is a Uint8Array over its own SharedArrayBuffer, so a worker (the SMMU) can be handed
 * a chunk without a copy. Chunks are never freed or replaced: a view from `chunkAt` stays live.
 *
 * Contract: `pa .. pa+len` lies inside [base, base+size) (a RangeError otherwise: a caller bug, the
 * address map decides what is decoded). Accesses may cross chunk boundaries. Accesses of up to 256
 * bytes per chunk allocate nothing once the chunk exists; larger ones allocate one view per chunk.
 */
export class SparseMemory implements PhysicalStore {
  readonly base: number;
  readonly size: number;
  readonly chunkBytes: number;
  private readonly chunks = new Map<number, Uint8Array>();
  private lastIndex = -1;
  private lastChunk: Uint8Array | undefined;
  private allocated = 0;

  constructor(opts: { base: number; size: number; chunkBytes?: number }) {
    const { base, size } = opts;
    const chunkBytes = opts.chunkBytes ?? 1 << 20;
    if (!Number.isSafeInteger(base) || base < 0) throw new RangeError(`SparseMemory: base must be a non-negative integer (got ${base})`);
    if (!Number.isSafeInteger(size) || size <= 0 || base + size > Number.MAX_SAFE_INTEGER) throw new RangeError(`SparseMemory: size must be a positive integer (got ${size})`);
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > 2 ** 30 || (chunkBytes & (chunkBytes - 1)) !== 0) {
      throw new RangeError(`SparseMemory: chunkBytes must be a power of two up to 1 GiB (got ${chunkBytes})`);
    }
    this.base = base; this.size = size; this.chunkBytes = chunkBytes;
  }

  /** Chunks allocated so far (each touched by a write). */
  get chunksAllocated(): number { return this.chunks.size; }

  /** Bytes of backing store allocated so far. */
  get bytesAllocated(): number { return this.allocated; }

  read(pa: number, dst: Uint8Array, dstOff: number, len: number): void {
    this.check(pa, len, 'read');
    const cb = this.chunkBytes;
    const off = pa - this.base;
    let idx = Math.floor(off / cb);
    let within = off - idx * cb;
    while (len > 0) {
      const n = Math.min(len, cb - within);
      const chunk = this.lookup(idx);
      if (chunk === undefined) {
        dst.fill(0, dstOff, dstOff + n);
      } else if (n <= SMALL_COPY) {
        for (let i = 0; i < n; i++) dst[dstOff + i] = chunk[within + i]!;
      } else {
        dst.set(chunk.subarray(within, within + n), dstOff);
      }
      len -= n; dstOff += n; idx++; within = 0;
    }
  }

  write(pa: number, src: Uint8Array, srcOff: number, len: number): void {
    this.check(pa, len, 'write');
    const cb = this.chunkBytes;
    const off = pa - this.base;
    let idx = Math.floor(off / cb);
    let within = off - idx * cb;
    while (len > 0) {
      const n = Math.min(len, cb - within);
      const chunk = this.lookup(idx) ?? this.allocate(idx);
      if (n <= SMALL_COPY) {
        for (let i = 0; i < n; i++) chunk[within + i] = src[srcOff + i]!;
      } else {
        chunk.set(src.subarray(srcOff, srcOff + n), within);
      }
      len -= n; srcOff += n; idx++; within = 0;
    }
  }

  /** The chunk holding `pa` if it has been written, else undefined (its bytes are all zero). */
  chunkAt(pa: number): Uint8Array | undefined {
    if (!(pa >= this.base && pa < this.base + this.size)) return undefined;
    return this.lookup(Math.floor((pa - this.base) / this.chunkBytes));
  }

  /** Calls `fn` for every allocated chunk in address order (for checkpoints and worker handover). */
  forEachChunk(fn: (chunkBase: number, bytes: Uint8Array) => void): void {
    const indices = [...this.chunks.keys()].sort((a, b) => a - b);
    for (const idx of indices) fn(this.base + idx * this.chunkBytes, this.chunks.get(idx)!);
  }

  private lookup(idx: number): Uint8Array | undefined {
    if (idx === this.lastIndex) return this.lastChunk;
    const chunk = this.chunks.get(idx);
    if (chunk !== undefined) { this.lastIndex = idx; this.lastChunk = chunk; }
    return chunk;
  }

  private allocate(idx: number): Uint8Array {
    // The last chunk of a region whose size is not a multiple of chunkBytes is cut short.
    const bytes = Math.min(this.chunkBytes, this.size - idx * this.chunkBytes);
    const chunk = new Uint8Array(new SharedArrayBuffer(bytes));
    this.chunks.set(idx, chunk);
    this.allocated += bytes;
    this.lastIndex = idx; this.lastChunk = chunk;
    return chunk;
  }

  private check(pa: number, len: number, what: string): void {
    if (!(pa >= this.base && len >= 0 && pa + len <= this.base + this.size && Number.isInteger(pa) && Number.isInteger(len))) {
      throw new RangeError(`SparseMemory: ${what} of ${len} bytes at 0x${pa.toString(16)} is outside [0x${this.base.toString(16)}, 0x${(this.base + this.size).toString(16)})`);
    }
  }
}
