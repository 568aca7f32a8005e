import type { Cycle } from './time.js';

/** What a request asks of the memory system. Numeric so hot code compares integers. */
export const ReqKind = {
  Read: 0,
  Write: 1,
  /** An instruction fetch: a read the PE tags as such. */
  Fetch: 2,
  /** A cache maintenance operation (`aux` holds the CmoOp, `addr`/`size` the bytes it covers). */
  Cmo: 3,
  /** An atomic read-modify-write (`aux` holds the AtomicOp; data: operand in, old value out). */
  Atomic: 4,
} as const;
export type ReqKind = (typeof ReqKind)[keyof typeof ReqKind];

/**
 * The request's bytes already moved (the cache hierarchy performs accesses when it takes them):
 * a target only spends the access's time on it and leaves the store and the data slice alone.
 */
export const REQ_FLAG_NO_DATA = 1;
/** A load- or store-exclusive (LDXR/STXR): the exclusive monitors are involved. */
export const REQ_FLAG_EXCLUSIVE = 2;

/** How a request ended. */
export const ReqStatus = {
  Pending: 0,
  Ok: 1,
  /** No region decodes the address, or the region refused the access: an external abort. */
  DecodeError: 2,
  /** The target signalled a slave error. */
  SlaveError: 3,
  /** The memory does not support this exclusive or atomic access (DFSC 0b110101). */
  Unsupported: 4,
  /** The access is not aligned as it must be (atomics and exclusives). */
  Alignment: 5,
} as const;
export type ReqStatus = (typeof ReqStatus)[keyof typeof ReqStatus];

/**
 * The requests in flight: a pooled struct-of-arrays table. Ports and links carry only the index,
 * and each request owns a fixed slice of `data` (`dataStride` bytes at `id * dataStride`) for the
 * bytes it moves, so nothing is allocated per access.
 *
 * Contract: `alloc()` returns -1 when the pool is empty (the caller stalls and retries when a
 * request is freed); whoever completes a request last frees it exactly once.
 */
export class RequestTable {
  readonly kind: Uint8Array;
  readonly status: Uint8Array;
  /** Physical address (exact up to 2^53). */
  readonly addr: Float64Array;
  readonly size: Uint32Array;
  /** Final memory attributes, packed (the MMU issue defines the layout; 0 = Device-nGnRnE). */
  readonly attrs: Uint32Array;
  /** The agent that issued the request (index into the system's agent list). */
  readonly source: Int32Array;
  /** Free for the issuing agent's bookkeeping (window slot, op index, ...). */
  readonly tag: Int32Array;
  /** REQ_FLAG_* bits. */
  readonly flags: Uint8Array;
  /** A second operand for kinds that need one (the CMO or atomic operation). */
  readonly aux: Int32Array;
  readonly issuedAt: Float64Array;
  /** Cycle at which the request reached the block now holding it (each hop sets it). */
  readonly hopAt: Float64Array;
  readonly doneAt: Float64Array;
  readonly data: Uint8Array;
  readonly dataStride: number;
  private readonly free: Int32Array;
  private nFree: number;
  /** High-water mark of requests in flight. */
  peakInUse = 0;

  constructor(readonly capacity: number, dataStride = 64) {
    this.kind = new Uint8Array(capacity);
    this.status = new Uint8Array(capacity);
    this.addr = new Float64Array(capacity);
    this.size = new Uint32Array(capacity);
    this.attrs = new Uint32Array(capacity);
    this.source = new Int32Array(capacity);
    this.tag = new Int32Array(capacity);
    this.flags = new Uint8Array(capacity);
    this.aux = new Int32Array(capacity);
    this.issuedAt = new Float64Array(capacity);
    this.hopAt = new Float64Array(capacity);
    this.doneAt = new Float64Array(capacity);
    this.dataStride = dataStride;
    // A SharedArrayBuffer so that a worker (the SMMU) can see request data without a copy.
    this.data = new Uint8Array(new SharedArrayBuffer(capacity * dataStride));
    this.free = new Int32Array(capacity);
    for (let i = 0; i < capacity; i++) this.free[i] = capacity - 1 - i;
    this.nFree = capacity;
  }

  get inUse(): number { return this.capacity - this.nFree; }

  /** Takes a request slot and fills its header; -1 if none is free. */
  alloc(kind: ReqKind, addr: number, size: number, attrs: number, source: number, now: Cycle): number {
    if (this.nFree === 0) return -1;
    const id = this.free[--this.nFree]!;
    this.kind[id] = kind; this.status[id] = ReqStatus.Pending;
    this.addr[id] = addr; this.size[id] = size; this.attrs[id] = attrs;
    this.source[id] = source; this.tag[id] = 0; this.flags[id] = 0; this.aux[id] = 0;
    this.issuedAt[id] = now; this.hopAt[id] = now; this.doneAt[id] = -1;
    const used = this.capacity - this.nFree;
    if (used > this.peakInUse) this.peakInUse = used;
    return id;
  }

  /**
   * alloc() that also sets the tag and flags, so that an issuer writes each header field once
   * (alloc's zero tag and flags would be overwritten straight away). The same header otherwise.
   */
  allocTagged(kind: ReqKind, addr: number, size: number, attrs: number, source: number, now: Cycle, tag: number, flags: number): number {
    if (this.nFree === 0) return -1;
    const id = this.free[--this.nFree]!;
    this.kind[id] = kind; this.status[id] = ReqStatus.Pending;
    this.addr[id] = addr; this.size[id] = size; this.attrs[id] = attrs;
    this.source[id] = source; this.tag[id] = tag; this.flags[id] = flags; this.aux[id] = 0;
    this.issuedAt[id] = now; this.hopAt[id] = now; this.doneAt[id] = -1;
    const used = this.capacity - this.nFree;
    if (used > this.peakInUse) this.peakInUse = used;
    return id;
  }

  release(id: number): void { this.free[this.nFree++] = id; }

  /** Byte offset of request `id`'s data slice in `data`. */
  dataOffset(id: number): number { return id * this.dataStride; }
}
