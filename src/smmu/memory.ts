/**
 * How the SMMU engine reaches memory: stream and CD tables, translation tables, queues and MSI
 * writes all go through `SmmuMemory`, so the engine holds no reference to caches, PEs or the
 * platform and can run inside a worker given any implementation (a timestamped write log, a
 * coherent port, a plain store).
 *
 * Contract: addresses are PAs below 2^52; `read64`/`write64` are 8-byte aligned and little-endian
 * (IDR0.TTENDIAN = LE only); a false return is an External abort on that access, which the
 * engine turns into the architectural result (F_WALK_EABT, F_STE_FETCH, F_CD_FETCH, CERROR_ABT,
 * GERROR.EVENTQ_ABT_ERR, GERROR.MSI_CMDQ_ABT_ERR).
 */
import type { PhysicalStore } from '../mem/index.js';
import type { Dword } from './bits.js';

export interface SmmuMemory {
  /** Reads the 64-bit word at `pa` into `out`; false on an External abort. */
  read64(pa: number, out: Dword): boolean;
  write64(pa: number, lo: number, hi: number): boolean;
  /** A 32-bit write (MSI data). */
  write32(pa: number, value: number): boolean;
}

/**
 * `SmmuMemory` over a `PhysicalStore`, functional and untimed. `abortRanges` ([base, bytes])
 * answer with an External abort (tests of the fetch-abort events); `reads`/`writes` count accesses.
 */
export class StoreMemory implements SmmuMemory {
  reads = 0;
  writes = 0;
  /** PAs read, in order, while `trace` is set (tests). */
  readLog: number[] | null = null;
  private readonly buf = new Uint8Array(8);
  private readonly view = new DataView(this.buf.buffer);

  constructor(private readonly store: PhysicalStore, public abortRanges: Array<[number, number]> = []) {}

  private aborts(pa: number): boolean {
    for (const [b, n] of this.abortRanges) if (pa >= b && pa < b + n) return true;
    return false;
  }

  read64(pa: number, out: Dword): boolean {
    this.reads++;
    this.readLog?.push(pa);
    if (this.aborts(pa)) return false;
    this.store.read(pa, this.buf, 0, 8);
    out.lo = this.view.getUint32(0, true);
    out.hi = this.view.getUint32(4, true);
    return true;
  }

  write64(pa: number, lo: number, hi: number): boolean {
    this.writes++;
    if (this.aborts(pa)) return false;
    this.view.setUint32(0, lo >>> 0, true);
    this.view.setUint32(4, hi >>> 0, true);
    this.store.write(pa, this.buf, 0, 8);
    return true;
  }

  write32(pa: number, value: number): boolean {
    this.writes++;
    if (this.aborts(pa)) return false;
    this.view.setUint32(0, value >>> 0, true);
    this.store.write(pa, this.buf, 0, 4);
    return true;
  }
}
