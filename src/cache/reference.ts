/**
 * Two plain, functional reference cache models used as oracles. Neither shares code with
 * CacheArray or the replacement policies, so a bug there cannot hide in both.
 *
 * CachegrindModel — Valgrind cachegrind's simulator (cachegrind/cg_sim.c, instrumentation in
 * cachegrind/cg_main.c; checked against valgrind 3.19's own output by tests/cache-oracle.test.ts):
 *   - I1, D1 and a unified LL, all LRU, write-allocate, no write-back traffic, no prefetch, no
 *     coherence; LL is looked up only on an L1 miss and nothing is ever evicted from an L1
 *     because of LL (no inclusion).
 *   - Set = line number mod sets (cg_sim.c: `block & sets_min_1`); cachegrind only accepts set
 *     counts that are powers of two (cg_arch.c check_cache: "Cache set count is not a power of
 *     two"), line sizes that are powers of two and >= 16, and assoc <= size / line size. (Only an
 *     auto-detected LL with a non-power-of-two set count is changed, by maybe_tweak_LLc, which
 *     raises the associativity; a geometry given with --LL is never changed.) The tag is the
 *     whole line number.
 *   - Every tag starts as 0 (cachesim_initcache: `c->tags[i] = 0`), not invalid: in a cold cache
 *     line 0 (addresses 0 .. lineBytes-1) hits in set 0. Kept, to match exactly.
 *   - A reference that straddles two lines is ONE access: both lines are looked up (both become
 *     MRU) and it is one miss if either misses (cachesim_ref_is_miss, "always do both, as state is
 *     updated as side effect"). On an L1 miss the LL is asked about the same (addr, size), so
 *     both lines are looked up in LL too, even the one that hit in L1. More than two lines is a
 *     panic in cachegrind ("item straddles more than two cache sets") and an Error here.
 *   - Every guest instruction is one I1 reference of its length (one per lackey `I` record).
 *   - A modify (lackey `M`: a load and a store of the same size to the same address in one
 *     instruction, merged by addEvent_Dw in both tools) is ONE data access counted as a READ:
 *     cg_main.c flushEvents maps `case Ev_Dr: case Ev_Dm:` to log_0Ir_1Dr_cache_access. Valgrind
 *     3.19 prints D refs rd = L + M and wr = S for the same run (verified in the oracle test).
 *   - Data sizes above the smallest line size are clipped to it (cg_main.c Ist_Dirty: "Large (eg.
 *     28B, 108B, 512B on x86) data-sized instructions will be done inaccurately"): an FXSAVE of
 *     512 bytes is one access of lineBytes bytes at its start address.
 *
 * DineroModel — a classic trace-driven hierarchy with Dinero IV's rules (d4-7 ref.c d4ref,
 * misc.c d4_dopending / d4_wbblock): L1I, L1D and a unified L2, all LRU, write-back and
 * write-allocate ("-wback a -walloc a"), no prefetch, no sub-blocks, L2 non-inclusive (an L2
 * eviction leaves the L1s alone).
 *   - An access that crosses line boundaries is split (d4_splitm): each line it touches is a
 *     separate reference, counted and missed separately, in address order.
 *   - A lackey M arrives as a Load then a Store (that is how the lackey importer writes it).
 *   - A miss at a level sends, in this order: the fill fetch of the whole line below (a read, an
 *     instruction fetch for L1I; a write miss fetches as a read), then the write-back of a dirty
 *     victim (a write of the whole line). A write miss that covers the whole line fetches
 *     nothing. At the last level "below" is memory, which only counts.
 *
 * Both take references through `ref(kind, addr, size)` with kind a ReqKind (Read 0, Write 1,
 * Fetch 2; the same numbers as core's OpCode Load/Store/Fetch) or through `replay(cursor)` on
 * trace chunks (`TraceReader.cursor(agent)` or a MemoryTrace cursor), skipping non-memory ops.
 * Addresses are exact below 2^53; nothing here uses bit operations on them.
 */
import { ReqKind, mod } from '../sim/index.js';
import { checkGeometry, type CacheGeometry } from './tag-array.js';

/** The columns of a trace chunk these models read (a TraceChunk has them). */
export interface RefChunk {
  length: number;
  op: ArrayLike<number>;
  addr: ArrayLike<number>;
  size: ArrayLike<number>;
}

/** Anything that hands out chunks until null (a TraceCursor). */
export interface RefCursor {
  next(): RefChunk | null;
}

// ---------------------------------------------------------------------------------------------
// Cachegrind

export interface CachegrindConfig {
  I1: CacheGeometry;
  D1: CacheGeometry;
  LL: CacheGeometry;
}

/** Valgrind's default for amd64 when it cannot read the host's caches (cg_arch.c). */
export const CACHEGRIND_DEFAULT: CachegrindConfig = Object.freeze({
  I1: Object.freeze({ sizeBytes: 65536, ways: 2, lineBytes: 64 }),
  D1: Object.freeze({ sizeBytes: 65536, ways: 2, lineBytes: 64 }),
  LL: Object.freeze({ sizeBytes: 262144, ways: 8, lineBytes: 64 }),
});

/**
 * The nine counters of cachegrind's output, named as on its `events:` line:
 * Ir I1mr ILmr (instruction refs, I1 misses, LL misses on instruction refs),
 * Dr D1mr DLmr (data reads, modifies included), Dw D1mw DLmw (data writes).
 */
export class CachegrindTotals {
  Ir = 0; I1mr = 0; ILmr = 0;
  Dr = 0; D1mr = 0; DLmr = 0;
  Dw = 0; D1mw = 0; DLmw = 0;
}

/** The totals as cachegrind's closing summary prints them (`D refs: N (rd + wr)` etc.). */
export interface CachegrindSummary {
  iRefs: number; i1Misses: number; lliMisses: number;
  dRefs: number; dReadRefs: number; dWriteRefs: number;
  d1Misses: number; d1ReadMisses: number; d1WriteMisses: number;
  lldMisses: number; lldReadMisses: number; lldWriteMisses: number;
  llRefs: number; llReadRefs: number; llWriteRefs: number;
  llMisses: number; llReadMisses: number; llWriteMisses: number;
}

/** Checks a geometry the way cachegrind's check_cache does; returns the set count. */
function checkCachegrindGeometry(g: CacheGeometry, name: string): number {
  const sets = checkGeometry(g, `cachegrind ${name}`);
  if (g.lineBytes < 16) throw new RangeError(`cachegrind ${name}: lineBytes ${g.lineBytes} is too small (cachegrind needs >= 16)`);
  if (g.sizeBytes <= g.lineBytes) throw new RangeError(`cachegrind ${name}: sizeBytes ${g.sizeBytes} must exceed lineBytes ${g.lineBytes}`);
  return sets;
}

/** One cachegrind cache (cache_t2): per set, tags in MRU-to-LRU order. */
class CgCache {
  readonly sets: number;
  readonly assoc: number;
  readonly lineSize: number;
  readonly tags: Float64Array;

  constructor(g: CacheGeometry, name: string) {
    this.sets = checkCachegrindGeometry(g, name);
    this.assoc = g.ways;
    this.lineSize = g.lineBytes;
    this.tags = new Float64Array(this.sets * this.assoc);     // all 0, as cachesim_initcache
  }

  /** cachesim_setref_is_miss: move the tag to MRU, shifting the others down; true on a miss. */
  setrefIsMiss(setNo: number, tag: number): boolean {
    const t = this.tags, assoc = this.assoc, base = setNo * assoc;
    if (t[base] === tag) return false;
    for (let i = 1; i < assoc; i++) {
      if (t[base + i] === tag) {
        for (let j = i; j > 0; j--) t[base + j] = t[base + j - 1]!;
        t[base] = tag;
        return false;
      }
    }
    for (let j = assoc - 1; j > 0; j--) t[base + j] = t[base + j - 1]!;
    t[base] = tag;
    return true;
  }

  /** cachesim_ref_is_miss: one access of `size` bytes at `a`, touching one or two lines. */
  refIsMiss(a: number, size: number): boolean {
    const block1 = Math.floor(a / this.lineSize);
    const block2 = Math.floor((a + size - 1) / this.lineSize);
    const set1 = mod(block1, this.sets);
    if (block1 === block2) return this.setrefIsMiss(set1, block1);
    if (block1 + 1 === block2) {
      const set2 = mod(block2, this.sets);
      // Always do both: the second line's LRU state is updated even when the first missed.
      if (this.setrefIsMiss(set1, block1)) { this.setrefIsMiss(set2, block2); return true; }
      return this.setrefIsMiss(set2, block2);
    }
    throw new Error(`cachegrind model: access at ${a} of ${size} bytes straddles more than two ${this.lineSize}-byte lines`);
  }
}

export class CachegrindModel {
  readonly totals = new CachegrindTotals();
  private readonly i1: CgCache;
  private readonly d1: CgCache;
  private readonly ll: CgCache;
  /** Data sizes are clipped to this (cg_main.c min_line_size). */
  readonly minLineBytes: number;

  constructor(readonly config: CachegrindConfig = CACHEGRIND_DEFAULT) {
    this.i1 = new CgCache(config.I1, 'I1');
    this.d1 = new CgCache(config.D1, 'D1');
    this.ll = new CgCache(config.LL, 'LL');
    this.minLineBytes = Math.min(config.I1.lineBytes, config.D1.lineBytes, config.LL.lineBytes);
  }

  /** One instruction of `size` bytes at `addr` (cachesim_I1_doref_Gen; _NoX is the same count). */
  fetch(addr: number, size: number): void {
    const t = this.totals;
    t.Ir++;
    if (this.i1.refIsMiss(addr, size)) {
      t.I1mr++;
      if (this.ll.refIsMiss(addr, size)) t.ILmr++;
    }
  }

  /** A data read (cachesim_D1_doref, counted in Dr). */
  read(addr: number, size: number): void {
    const t = this.totals, s = size > this.minLineBytes ? this.minLineBytes : size;
    t.Dr++;
    if (this.d1.refIsMiss(addr, s)) {
      t.D1mr++;
      if (this.ll.refIsMiss(addr, s)) t.DLmr++;
    }
  }

  /** A data write (write-allocate: the same lookup as a read, counted in Dw). */
  write(addr: number, size: number): void {
    const t = this.totals, s = size > this.minLineBytes ? this.minLineBytes : size;
    t.Dw++;
    if (this.d1.refIsMiss(addr, s)) {
      t.D1mw++;
      if (this.ll.refIsMiss(addr, s)) t.DLmw++;
    }
  }

  /** A read-modify-write of one location (lackey `M`, cachegrind Ev_Dm): one access, as a read. */
  modify(addr: number, size: number): void { this.read(addr, size); }

  /** One reference; `kind` is a ReqKind (Read, Write, Fetch). Other kinds are ignored. */
  ref(kind: number, addr: number, size: number): void {
    if (kind === ReqKind.Read) this.read(addr, size);
    else if (kind === ReqKind.Write) this.write(addr, size);
    else if (kind === ReqKind.Fetch) this.fetch(addr, size);
  }

  /**
   * Replays every chunk of `cursor`. With `mergeModify` (default), a Load immediately followed by
   * a Store of the same address and size is one modify: that undoes the lackey importer's
   * M -> Load, Store split (lackey never prints an L directly followed by an S of the same
   * address and size: it would have merged them into an M). Returns `totals`.
   */
  replay(cursor: RefCursor, opts?: { mergeModify?: boolean }): CachegrindTotals {
    const merge = opts?.mergeModify ?? true;
    const LOAD = ReqKind.Read, STORE = ReqKind.Write, FETCH = ReqKind.Fetch;
    let pendAddr = -1, pendSize = 0;                     // a Load that may be the first half of an M
    for (let c = cursor.next(); c !== null; c = cursor.next()) {
      const op = c.op, addr = c.addr, size = c.size, n = c.length;
      for (let i = 0; i < n; i++) {
        const o = op[i]!, a = addr[i]!, s = size[i]!;
        if (pendAddr >= 0) {
          if (o === STORE && a === pendAddr && s === pendSize) { this.modify(a, s); pendAddr = -1; continue; }
          this.read(pendAddr, pendSize);
          pendAddr = -1;
        }
        if (o === LOAD) {
          if (merge) { pendAddr = a; pendSize = s; } else this.read(a, s);
        } else if (o === STORE) this.write(a, s);
        else if (o === FETCH) this.fetch(a, s);
      }
    }
    if (pendAddr >= 0) this.read(pendAddr, pendSize);
    return this.totals;
  }

  /** The totals as cachegrind's closing summary lines group them. */
  summary(): CachegrindSummary {
    const t = this.totals;
    return {
      iRefs: t.Ir, i1Misses: t.I1mr, lliMisses: t.ILmr,
      dRefs: t.Dr + t.Dw, dReadRefs: t.Dr, dWriteRefs: t.Dw,
      d1Misses: t.D1mr + t.D1mw, d1ReadMisses: t.D1mr, d1WriteMisses: t.D1mw,
      lldMisses: t.DLmr + t.DLmw, lldReadMisses: t.DLmr, lldWriteMisses: t.DLmw,
      llRefs: t.I1mr + t.D1mr + t.D1mw, llReadRefs: t.I1mr + t.D1mr, llWriteRefs: t.D1mw,
      llMisses: t.ILmr + t.DLmr + t.DLmw, llReadMisses: t.ILmr + t.DLmr, llWriteMisses: t.DLmw,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Dinero

export interface DineroConfig {
  l1i: CacheGeometry;
  l1d: CacheGeometry;
  l2: CacheGeometry;
}

/** Dinero's per-level counts ("Demand Fetches" and "Demand Misses" by access type). */
export interface DineroLevelStats {
  /** References that reached this level, one per line touched, by type. */
  instrnRefs: number; readRefs: number; writeRefs: number;
  instrnMisses: number; readMisses: number; writeMisses: number;
  /** Dirty lines this level wrote back to the level below. */
  writebacks: number;
}

export interface DineroStats {
  l1i: DineroLevelStats;
  l1d: DineroLevelStats;
  l2: DineroLevelStats;
  /** Line reads and writes that reached memory. */
  memoryReads: number;
  memoryWrites: number;
}

/** Counts indexed by ReqKind: Read 0, Write 1, Fetch (instrn) 2. */
class DineroLevel {
  readonly sets: number;
  readonly ways: number;
  readonly lineBytes: number;
  /** Per set, line numbers in MRU-to-LRU order (Dinero's priority stack); -1 = invalid. */
  readonly tags: Float64Array;
  readonly dirty: Uint8Array;
  readonly refs = new Float64Array(3);
  readonly misses = new Float64Array(3);
  writebacks = 0;

  constructor(g: CacheGeometry, name: string, private readonly below: DineroLevel | null, private readonly memory: Float64Array) {
    this.sets = checkGeometry(g, `dinero ${name}`);
    this.ways = g.ways;
    this.lineBytes = g.lineBytes;
    this.tags = new Float64Array(this.sets * this.ways).fill(-1);
    this.dirty = new Uint8Array(this.sets * this.ways);
  }

  /** d4ref: splits at line boundaries and handles each piece in address order. */
  ref(kind: number, addr: number, size: number): void {
    const B = this.lineBytes;
    for (;;) {
      const block = Math.floor(addr / B);
      const last = Math.floor((addr + size - 1) / B);
      if (last === block) { this.refLine(kind, block, size); return; }
      const piece = (block + 1) * B - addr;
      this.refLine(kind, block, piece);
      addr += piece; size -= piece;
    }
  }

  private refLine(kind: number, block: number, size: number): void {
    const t = this.tags, d = this.dirty, base = mod(block, this.sets) * this.ways, ways = this.ways;
    const isWrite = kind === ReqKind.Write;
    this.refs[kind]!++;
    for (let i = 0; i < ways; i++) {
      if (t[base + i] === block) {                        // hit: move to the top of the stack
        const wasDirty = d[base + i]!;
        for (let j = i; j > 0; j--) { t[base + j] = t[base + j - 1]!; d[base + j] = d[base + j - 1]!; }
        t[base] = block;
        d[base] = isWrite ? 1 : wasDirty;
        return;
      }
    }
    this.misses[kind]!++;
    const victim = t[base + ways - 1]!, victimDirty = d[base + ways - 1]!;
    for (let j = ways - 1; j > 0; j--) { t[base + j] = t[base + j - 1]!; d[base + j] = d[base + j - 1]!; }
    t[base] = block;
    d[base] = isWrite ? 1 : 0;
    // d4ref pushes the victim's write-back, then the fetch, on a LIFO pending stack: the fetch
    // goes below first. A write miss that fills the whole line needs no fetch.
    if (!isWrite || size !== this.lineBytes) this.down(isWrite ? ReqKind.Read : kind, block);
    if (victim !== -1 && victimDirty !== 0) { this.writebacks++; this.down(ReqKind.Write, victim); }
  }

  private down(kind: number, block: number): void {
    if (this.below !== null) this.below.ref(kind, block * this.lineBytes, this.lineBytes);
    else this.memory[kind === ReqKind.Write ? 1 : 0]!++;
  }

  stats(): DineroLevelStats {
    const r = this.refs, m = this.misses;
    return {
      instrnRefs: r[ReqKind.Fetch]!, readRefs: r[ReqKind.Read]!, writeRefs: r[ReqKind.Write]!,
      instrnMisses: m[ReqKind.Fetch]!, readMisses: m[ReqKind.Read]!, writeMisses: m[ReqKind.Write]!,
      writebacks: this.writebacks,
    };
  }
}

export class DineroModel {
  private readonly l1i: DineroLevel;
  private readonly l1d: DineroLevel;
  private readonly l2: DineroLevel;
  /** [reads, writes] of whole L2 lines at memory. */
  private readonly memory = new Float64Array(2);

  constructor(readonly config: DineroConfig) {
    this.l2 = new DineroLevel(config.l2, 'l2', null, this.memory);
    this.l1i = new DineroLevel(config.l1i, 'l1i', this.l2, this.memory);
    this.l1d = new DineroLevel(config.l1d, 'l1d', this.l2, this.memory);
  }

  fetch(addr: number, size: number): void { this.l1i.ref(ReqKind.Fetch, addr, size); }
  read(addr: number, size: number): void { this.l1d.ref(ReqKind.Read, addr, size); }
  write(addr: number, size: number): void { this.l1d.ref(ReqKind.Write, addr, size); }

  /** One reference; `kind` is a ReqKind (Read, Write, Fetch). Other kinds are ignored. */
  ref(kind: number, addr: number, size: number): void {
    if (kind === ReqKind.Fetch) this.l1i.ref(kind, addr, size);
    else if (kind === ReqKind.Read || kind === ReqKind.Write) this.l1d.ref(kind, addr, size);
  }

  /** Replays every chunk of `cursor` (a lackey M is already a Load then a Store). */
  replay(cursor: RefCursor): DineroStats {
    for (let c = cursor.next(); c !== null; c = cursor.next()) {
      const op = c.op, addr = c.addr, size = c.size, n = c.length;
      for (let i = 0; i < n; i++) this.ref(op[i]!, addr[i]!, size[i]!);
    }
    return this.stats();
  }

  stats(): DineroStats {
    return { l1i: this.l1i.stats(), l1d: this.l1d.stats(), l2: this.l2.stats(), memoryReads: this.memory[0]!, memoryWrites: this.memory[1]! };
  }
}
