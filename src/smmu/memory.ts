/**
 * How the SMMU engine reaches memory: stream and CD tables, translation tables, queues and MSI
 * writes all go through `SmmuMemory`, so the engine holds no reference to caches, PEs or the
 * platform and can run inside a worker given any implementation (a timestamped write log, a
 * coherent port, a plain store).
 *
 * Contract: addresses are PAs below 2^52; `read64`/`write64` are 8-byte aligned and little-endian
 * (IDR0.TTENDIAN = LE only); a false return is an External abort on that access, which the
 * engine turns into the architectural result (F_WALK_EABT, F_STE_FETCH, F_CD_FETCH, CERROR_ABT,
 * GERROR.EVENTQ_ABT_ERR, GERROR.MSI_CMDQ_ABT_ERR). `attrs` (a packed mem/mem-attrs.ts word) are
 * the attributes of that access as the architecture gives them: CR1.TABLE_* for STE and L1STD
 * fetches, CR1.QUEUE_* for queue reads and writes, STE.S1C* (with stage 2 in nested mode) for
 * CD fetches, CD IRn/ORn/SHn and STE S2IR0/S2OR0/S2SH0 for table walks, CMD_SYNC MSIAttr/MSH for
 * MSI writes. An implementation may ignore them (`StoreMemory`) or use them to pick the
 * coherent or non-coherent path (`PathMemory`).
 */
import {
  ATTR_SH_SHIFT, NORMAL_WB_RWA_OSH, Shareability, isWbWb, type PhysicalStore,
} from '../mem/index.js';
import type { Dword } from './bits.js';

export interface SmmuMemory {
  /** Reads the 64-bit word at `pa` into `out`; false on an External abort. */
  read64(pa: number, out: Dword, attrs?: number): boolean;
  write64(pa: number, lo: number, hi: number, attrs?: number): boolean;
  /** A 32-bit write (MSI data). */
  write32(pa: number, value: number, attrs?: number): boolean;
  /**
   * Optional, called right after a read64 of `pa` with `attrs`: the cycles that read takes from its
   * request to its data, given where its line was (the memory system may keep the line closer
   * for next time, as a system cache does). Without it every read costs the host's fixed
   * `descriptorReadCycles`.
   */
  readLatency?(pa: number, attrs?: number): number;
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

/** Accesses per path (PathMemory): descriptor/queue words and DMA data, in accesses and bytes. */
export class SmmuMemoryStats {
  coherentReads = 0; coherentWrites = 0; nonCoherentReads = 0; nonCoherentWrites = 0;
  coherentReadBytes = 0; coherentWriteBytes = 0; nonCoherentReadBytes = 0; nonCoherentWriteBytes = 0;
  /** Accesses no memory region decodes (External aborts). */
  aborts = 0;
  /** Reads whose latency the memory system gave (readLatency), and those latencies summed. */
  timedReads = 0; timedReadCycles = 0;
  /** Device data reads timed by where their lines were (dataLatency), and those latencies summed. */
  timedDataReads = 0; timedDataReadCycles = 0;
}

/**
 * Does an access with attributes `a` go through the coherent interconnect? Only with IDR0.COHACC
 * and Normal Write-Back memory at both levels that is shareable (Inner or Outer Shareable): those
 * are the accesses that snoop the PEs' caches (IHI 0070 3.15 "Coherency considerations and memory
 * access types"; DESIGN.md "Coherence"). Non-cacheable, Write-Through, Non-shareable and Device
 * accesses, and every access of an SMMU without COHACC, go to memory behind the caches.
 */
export function isCoherentAccess(cohacc: boolean, a: number): boolean {
  if (!cohacc || !isWbWb(a)) return false;
  const sh = (a >>> ATTR_SH_SHIFT) & 3;
  return sh === Shareability.ISH || sh === Shareability.OSH;
}

/**
 * The SMMU's two ways to memory, chosen per access from IDR0.COHACC and the access's attributes
 * (`isCoherentAccess`):
 * - `coherent`: a view through the PEs' caches — reads see dirty lines, writes update every cached
 *   copy and memory (System.coherent on the platform).
 * - `nonCoherent`: memory at the PoC as a non-snooping agent sees it — stale where a PE holds a
 *   dirty line, and a later write-back of that line overwrites what was written here.
 * Untimed: the DMA master and (phase 2b) the worker host add the time. An access without
 * attributes is taken as Normal WB RWA Outer Shareable (the engine's default incoming attributes).
 * `decodes(pa, len)` says whether a region holds the bytes; accesses it refuses are External aborts.
 */
export class PathMemory implements SmmuMemory {
  readonly stats = new SmmuMemoryStats();
  private readonly buf = new Uint8Array(8);
  private readonly view = new DataView(this.buf.buffer);

  constructor(
    readonly cohacc: boolean,
    private readonly coherent: PhysicalStore,
    private readonly nonCoherent: PhysicalStore,
    private readonly decodes: (pa: number, len: number) => boolean = () => true,
    /** Read latency by where the line is (`readLatency`), on the coherent path or not; none: fixed costs. */
    latency?: (pa: number, coherent: boolean) => number,
    /** The line size `dataLatency` steps by (the platform's cache lines). */
    lineBytes = 64,
  ) {
    if (latency === undefined) return;
    this.readLatency = (pa, attrs = NORMAL_WB_RWA_OSH) => this.timedRead(latency(pa, isCoherentAccess(this.cohacc, attrs)));
    this.dataLatency = (pa, len, attrs = NORMAL_WB_RWA_OSH) => {
      if (!this.decodes(pa, len)) return 0;                // an External abort, answered without a memory access
      // The lines are requested together: the data is complete when the slowest has come back.
      const coherent = isCoherentAccess(this.cohacc, attrs);
      let worst = 0;
      for (let a = pa - (pa % lineBytes), end = pa + len; a < end; a += lineBytes) {
        const c = latency(a, coherent);
        if (c > worst) worst = c;
      }
      this.stats.timedDataReads++;
      this.stats.timedDataReadCycles += worst;
      return worst;
    };
  }

  /** Cycles a descriptor read of `pa` takes (counted in timedReads); absent without a memory system. */
  readLatency?: (pa: number, attrs?: number) => number;
  /** Cycles until a device's read of [pa, pa+len) has all its data (counted in timedDataReads; 0 where no region decodes it); absent without a memory system. */
  dataLatency?: (pa: number, len: number, attrs?: number) => number;

  private timedRead(cycles: number): number {
    this.stats.timedReads++;
    this.stats.timedReadCycles += cycles;
    return cycles;
  }

  isCoherent(attrs: number = NORMAL_WB_RWA_OSH): boolean { return isCoherentAccess(this.cohacc, attrs); }

  /** Reads `len` bytes at `pa` into `dst` on the path `attrs` choose; false (and nothing read) on an abort. */
  readBytes(pa: number, dst: Uint8Array, dstOff: number, len: number, attrs: number = NORMAL_WB_RWA_OSH): boolean {
    if (!this.decodes(pa, len)) { this.stats.aborts++; return false; }
    const s = this.stats;
    if (isCoherentAccess(this.cohacc, attrs)) { s.coherentReads++; s.coherentReadBytes += len; this.coherent.read(pa, dst, dstOff, len); }
    else { s.nonCoherentReads++; s.nonCoherentReadBytes += len; this.nonCoherent.read(pa, dst, dstOff, len); }
    return true;
  }

  /** Writes `len` bytes from `src` at `pa` on the path `attrs` choose; false (and nothing written) on an abort. */
  writeBytes(pa: number, src: Uint8Array, srcOff: number, len: number, attrs: number = NORMAL_WB_RWA_OSH): boolean {
    if (!this.decodes(pa, len)) { this.stats.aborts++; return false; }
    const s = this.stats;
    if (isCoherentAccess(this.cohacc, attrs)) { s.coherentWrites++; s.coherentWriteBytes += len; this.coherent.write(pa, src, srcOff, len); }
    else { s.nonCoherentWrites++; s.nonCoherentWriteBytes += len; this.nonCoherent.write(pa, src, srcOff, len); }
    return true;
  }

  read64(pa: number, out: Dword, attrs?: number): boolean {
    if (!this.readBytes(pa, this.buf, 0, 8, attrs)) return false;
    out.lo = this.view.getUint32(0, true);
    out.hi = this.view.getUint32(4, true);
    return true;
  }

  write64(pa: number, lo: number, hi: number, attrs?: number): boolean {
    this.view.setUint32(0, lo >>> 0, true);
    this.view.setUint32(4, hi >>> 0, true);
    return this.writeBytes(pa, this.buf, 0, 8, attrs);
  }

  write32(pa: number, value: number, attrs?: number): boolean {
    this.view.setUint32(0, value >>> 0, true);
    return this.writeBytes(pa, this.buf, 0, 4, attrs);
  }
}
