import { WordViews } from '../sim/index.js';
import type { PhysicalStore } from './store.js';

/** Accesses up to this many bytes per chunk are copied element by element (bytes, or words when aligned): no view is allocated. */
const SMALL_COPY = 256;
/** Regions of up to this many chunks (64 GiB of 1 MiB chunks) index them with an array. */
const DENSE_LIMIT = 65536;

/** One allocated chunk, as bytes and as whole 32-bit words (for aligned small copies). */
interface Chunk { readonly bytes: Uint8Array; readonly words: Int32Array }

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
  private readonly chunks = new Map<number, Chunk>();
  /** The same chunks by index, for regions of at most DENSE_LIMIT chunks (an array index beats a map lookup). */
  private readonly dense: (Chunk | undefined)[] | undefined;
  private lastIndex = -1;
  private lastChunk: Uint8Array | undefined;
  private lastWords: Int32Array | undefined;
  /** Address of lastChunk's first byte (meaningful while lastChunk is set). */
  private lastChunkPa = 0;
  /** Word views of the arrays small accesses copy to and from (a request table's data, a cache's line buffers). */
  private readonly peers = new WordViews();
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
    const slots = Math.ceil(size / chunkBytes);
    this.dense = slots <= DENSE_LIMIT ? new Array<Chunk | undefined>(slots).fill(undefined) : undefined;
  }

  /** Chunks allocated so far (each touched by a write). */
  get chunksAllocated(): number { return this.chunks.size; }

  /** Bytes of backing store allocated so far. */
  get bytesAllocated(): number { return this.allocated; }

  // read() and write() are small so that callers can inline them: an address passed to a call
  // that is not inlined is boxed as a heap number. The common case, a small access inside the
  // chunk used last, needs no division and no map lookup; anything else takes the slow path.

  read(pa: number, dst: Uint8Array, dstOff: number, len: number): void {
    const last = this.lastChunk, within = pa - this.lastChunkPa;
    if (last !== undefined && within >= 0 && len >= 0 && len <= SMALL_COPY && within + len <= last.length && Number.isInteger(within) && Number.isInteger(len)) {
      this.copyOut(last, within, dst, dstOff, len);
    } else {
      this.readSlow(pa, dst, dstOff, len);
    }
  }

  write(pa: number, src: Uint8Array, srcOff: number, len: number): void {
    const last = this.lastChunk, within = pa - this.lastChunkPa;
    if (last !== undefined && within >= 0 && len >= 0 && len <= SMALL_COPY && within + len <= last.length && Number.isInteger(within) && Number.isInteger(len)) {
      this.copyIn(last, within, src, srcOff, len);
    } else {
      this.writeSlow(pa, src, srcOff, len);
    }
  }

  /** Copies `len` bytes at `within` of the last chunk to dst (all small non-negative integers but dstOff). */
  private copyOut(last: Uint8Array, within: number, dst: Uint8Array, dstOff: number, len: number): void {
    const d32 = this.peers.of(dst);
    // within and len are small integers, and dstOff is tested to be one, so the bit tests are exact.
    if (d32 !== undefined && dstOff >= 0 && (dstOff | 0) === dstOff && ((within | len | (this.peers.at + dstOff)) & 3) === 0) {
      const s32 = this.lastWords!, s = within >>> 2, d = (this.peers.at + dstOff) >>> 2;
      for (let i = 0, n = len >>> 2; i < n; i++) d32[d + i] = s32[s + i]!;   // whole words: the same bytes, a quarter of the copies
    } else {
      for (let i = 0; i < len; i++) dst[dstOff + i] = last[within + i]!;
    }
  }

  /** Copies `len` bytes from src into the last chunk at `within` (as copyOut). */
  private copyIn(last: Uint8Array, within: number, src: Uint8Array, srcOff: number, len: number): void {
    const s32 = this.peers.of(src);
    if (s32 !== undefined && srcOff >= 0 && (srcOff | 0) === srcOff && ((within | len | (this.peers.at + srcOff)) & 3) === 0) {
      const d32 = this.lastWords!, d = within >>> 2, s = (this.peers.at + srcOff) >>> 2;
      for (let i = 0, n = len >>> 2; i < n; i++) d32[d + i] = s32[s + i]!;
    } else {
      for (let i = 0; i < len; i++) last[within + i] = src[srcOff + i]!;
    }
  }

  private readSlow(pa: number, dst: Uint8Array, dstOff: number, len: number): void {
    this.check(pa, len, 'read');
    const cb = this.chunkBytes;
    const off = pa - this.base;
    let idx = Math.floor(off / cb);
    let within = off - idx * cb;
    if (len > 0 && within + len <= cb && len <= SMALL_COPY) {
      // Inside one chunk (a line fill): lookup() makes it the last chunk, so copyOut can move words.
      const chunk = this.lookup(idx);
      if (chunk === undefined) dst.fill(0, dstOff, dstOff + len);
      else this.copyOut(chunk, within, dst, dstOff, len);
      return;
    }
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

  private writeSlow(pa: number, src: Uint8Array, srcOff: number, len: number): void {
    this.check(pa, len, 'write');
    const cb = this.chunkBytes;
    const off = pa - this.base;
    let idx = Math.floor(off / cb);
    let within = off - idx * cb;
    if (len > 0 && within + len <= cb && len <= SMALL_COPY) {
      // Inside one chunk (a write-back): lookup() or allocate() makes it the last chunk, as copyIn wants.
      this.copyIn(this.lookup(idx) ?? this.allocate(idx), within, src, srcOff, len);
      return;
    }
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
    for (const idx of indices) fn(this.base + idx * this.chunkBytes, this.chunks.get(idx)!.bytes);
  }

  private lookup(idx: number): Uint8Array | undefined {
    if (idx === this.lastIndex) return this.lastChunk;
    const chunk = this.dense !== undefined ? this.dense[idx] : this.chunks.get(idx);
    if (chunk !== undefined) this.setLast(idx, chunk);
    return chunk?.bytes;
  }

  private setLast(idx: number, chunk: Chunk): void {
    this.lastIndex = idx; this.lastChunk = chunk.bytes; this.lastWords = chunk.words;
    this.lastChunkPa = this.base + idx * this.chunkBytes;
  }

  private allocate(idx: number): Uint8Array {
    // The last chunk of a region whose size is not a multiple of chunkBytes is cut short.
    const bytes = Math.min(this.chunkBytes, this.size - idx * this.chunkBytes);
    const buffer = new SharedArrayBuffer(bytes);
    const chunk: Chunk = { bytes: new Uint8Array(buffer), words: new Int32Array(buffer, 0, Math.floor(bytes / 4)) };
    this.chunks.set(idx, chunk);
    if (this.dense !== undefined) this.dense[idx] = chunk;
    this.allocated += bytes;
    this.setLast(idx, chunk);
    return chunk.bytes;
  }

  private check(pa: number, len: number, what: string): void {
    if (!(pa >= this.base && len >= 0 && pa + len <= this.base + this.size && Number.isInteger(pa) && Number.isInteger(len))) {
      throw new RangeError(`SparseMemory: ${what} of ${len} bytes at 0x${pa.toString(16)} is outside [0x${this.base.toString(16)}, 0x${(this.base + this.size).toString(16)})`);
    }
  }
}
