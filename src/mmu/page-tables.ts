/**
 * Builds VMSAv8-64 translation tables in simulated memory: a bump allocator hands out table
 * pages, `map` installs blocks and pages with chosen attributes, `setDescriptor` writes any raw
 * descriptor (invalid entries, AF=0, bad addresses) at a chosen level. For tests, scenarios and
 * the hypervisor model; not for hot code (it allocates).
 *
 * Addresses given to the builder are input addresses of the stage being built, taken modulo
 * 2^inputBits, so a TTBR1_EL1 region is mapped by its offset (VA - (2^64 - 2^inputBits)).
 * Table addresses are where the walker will look: PAs for stage 2 and for stage 1 without
 * stage 2, IPAs for a nested stage 1; `physOf` maps a table address to the PA to write
 * (identity by default).
 */
import type { PhysicalStore } from '../mem/index.js';
import {
  DescType, GRANULE_BITS, POW2, blockSupported, descAddress, descType, encodeS1Leaf, encodeS2Leaf, encodeTable, levelShift,
  type Desc, type GranuleBits, type GranuleName, type S1LeafInit, type S2LeafInit, type TableInit,
} from './descriptors.js';
import { s1StartLevel } from './regime.js';

export interface PageTableConfig {
  stage: 1 | 2;
  granule: GranuleName;
  /** Input address size: 64 - TxSZ. */
  inputBits: number;
  /** Start level. Default for stage 1: `AArch64.S1StartLevel`; for stage 2 the same (no concatenation). */
  startLevel?: number;
  /** Table pages are allocated upwards from here (aligned as needed) ... */
  allocBase: number;
  /** ... and must end at or below this address. */
  allocLimit: number;
  /** 64KB granule with a 52-bit PA: level 1 blocks are allowed. */
  pa52?: boolean;
  /** PA at which to write a table address (for a nested stage 1, the IPA's stage-2 output). */
  physOf?: (tableAddr: number) => number;
}

/** One range to map. */
export interface Mapping {
  /** Input address (low `inputBits` bits). */
  va: number;
  /** Output address. */
  oa: number;
  size: number;
  /** Leaf level to use; default: the largest block that alignment and size allow. */
  level?: number;
  /** Stage-1 leaf attributes (stage-1 builder). */
  s1?: S1LeafInit;
  /** Stage-2 leaf attributes (stage-2 builder). */
  s2?: S2LeafInit;
  /** Hierarchical attributes for table descriptors created for this mapping (stage 1). */
  table?: TableInit;
}

/** A builder's table pool (allocBase .. allocLimit) has no room for another table. */
export class TablePoolExhausted extends RangeError {}

export class PageTableBuilder {
  readonly stage: 1 | 2;
  readonly granuleBits: GranuleBits;
  readonly inputBits: number;
  readonly startLevel: number;
  /** log2 of the entries in the start table (above granuleBits - 3 when concatenated). */
  readonly startIndexBits: number;
  /** Address of the start-level table (TTBR / VTTBR BADDR). */
  readonly root: number;
  /** Bytes of table memory handed out so far. */
  allocated = 0;
  private next: number;
  private readonly limit: number;
  private readonly pa52: boolean;
  private readonly physOf: (a: number) => number;
  private readonly buf = new Uint8Array(8);
  private readonly view = new DataView(this.buf.buffer);

  constructor(private readonly mem: PhysicalStore, cfg: PageTableConfig) {
    this.stage = cfg.stage;
    this.granuleBits = GRANULE_BITS[cfg.granule];
    this.inputBits = cfg.inputBits;
    this.startLevel = cfg.startLevel ?? s1StartLevel(cfg.inputBits, this.granuleBits);
    this.startIndexBits = cfg.inputBits - levelShift(this.granuleBits, this.startLevel);
    if (this.startLevel < 0 || this.startLevel > 3 || this.startIndexBits < 1 || this.startIndexBits > this.granuleBits - 3 + 4) {
      throw new RangeError(`PageTableBuilder: ${cfg.inputBits}-bit input cannot start at level ${this.startLevel} with the ${cfg.granule} granule`);
    }
    if (this.startIndexBits > this.granuleBits - 3 && cfg.stage === 1) {
      throw new RangeError('PageTableBuilder: only stage 2 can concatenate start tables');
    }
    this.next = cfg.allocBase;
    this.limit = cfg.allocLimit;
    this.pa52 = cfg.pa52 ?? false;
    this.physOf = cfg.physOf ?? ((a) => a);
    this.root = this.alloc(POW2[this.startIndexBits + 3]!);
  }

  /** End of the table memory handed out so far (the next free address, before alignment). */
  get allocTop(): number {
    return this.next;
  }

  /** A zeroed, naturally aligned table of `bytes` (at least 64-byte aligned). */
  alloc(bytes: number): number {
    const align = Math.max(64, bytes);
    const at = Math.ceil(this.next / align) * align;
    if (at + bytes > this.limit) throw new TablePoolExhausted(`PageTableBuilder: table pool exhausted at 0x${at.toString(16)}`);
    this.next = at + bytes;
    this.allocated += bytes;
    const zero = new Uint8Array(bytes);
    this.mem.write(this.physOf(at), zero, 0, bytes);
    return at;
  }

  /** Bytes one entry at `level` maps. */
  blockBytes(level: number): number {
    return POW2[levelShift(this.granuleBits, level)]!;
  }

  /** Maps [va, va+size) to [oa, oa+size) with leaves of `m.level` or the largest that fit. */
  map(m: Mapping): void {
    const gsize = POW2[this.granuleBits]!;
    if (m.va % gsize !== 0 || m.oa % gsize !== 0 || m.size % gsize !== 0 || m.size <= 0) {
      throw new RangeError(`PageTableBuilder.map: va, oa and size must be multiples of the ${gsize}-byte granule`);
    }
    let va = m.va, oa = m.oa;
    const end = m.va + m.size;
    while (va < end) {
      const level = m.level ?? this.bestLevel(va, oa, end - va);
      const bytes = this.blockBytes(level);
      if (va % bytes !== 0 || oa % bytes !== 0 || va + bytes > end) {
        throw new RangeError(`PageTableBuilder.map: 0x${va.toString(16)} -> 0x${oa.toString(16)} cannot use a level ${level} leaf`);
      }
      this.setDescriptor(va, level, this.leaf(oa, level, m), m.table);
      va += bytes;
      oa += bytes;
    }
  }

  /** The leaf descriptor a mapping would write for `oa` at `level`. */
  leaf(oa: number, level: number, m: Pick<Mapping, 's1' | 's2'>): Desc {
    return this.stage === 1 ? encodeS1Leaf(oa, level, this.granuleBits, m.s1 ?? {}) : encodeS2Leaf(oa, level, this.granuleBits, m.s2 ?? {});
  }

  /**
   * Writes `d` as the descriptor for `va` at `level`, creating tables at the levels above as
   * needed (with `table` attributes). Throws if an existing block or page is in the way.
   */
  setDescriptor(va: number, level: number, d: Desc, table?: TableInit): void {
    this.writeDesc(this.slotAddress(va, level, table), d);
  }

  /** Address (as the walker sees it) of the descriptor slot for `va` at `level`, creating parent tables. */
  slotAddress(va: number, level: number, table?: TableInit): number {
    if (level < this.startLevel || level > 3) throw new RangeError(`PageTableBuilder: level ${level} is outside ${this.startLevel}..3`);
    let base = this.root;
    for (let l = this.startLevel; l < level; l++) {
      const slot = base + this.index(va, l) * 8;
      const d = this.readDesc(slot);
      const t = descType(d.lo, l, true);
      if (t === DescType.Table) {
        base = descAddress(d.lo, d.hi, this.granuleBits, this.granuleBits);
      } else if (t === DescType.Invalid) {
        const child = this.alloc(POW2[this.granuleBits]!);
        this.writeDesc(slot, encodeTable(child, this.granuleBits, this.stage === 1 ? table ?? {} : {}));
        base = child;
      } else {
        throw new RangeError(`PageTableBuilder: 0x${va.toString(16)} is already mapped by a level ${l} block`);
      }
    }
    return base + this.index(va, level) * 8;
  }

  /** Index of `va` in its table at `level`. */
  index(va: number, level: number): number {
    const entries = level === this.startLevel ? POW2[this.startIndexBits]! : POW2[this.granuleBits - 3]!;
    return Math.floor((va % POW2[this.inputBits]!) / POW2[levelShift(this.granuleBits, level)]!) % entries;
  }

  readDesc(addr: number): Desc {
    this.mem.read(this.physOf(addr), this.buf, 0, 8);
    return { lo: this.view.getUint32(0, true), hi: this.view.getUint32(4, true) };
  }

  writeDesc(addr: number, d: Desc): void {
    this.view.setUint32(0, d.lo >>> 0, true);
    this.view.setUint32(4, d.hi >>> 0, true);
    this.mem.write(this.physOf(addr), this.buf, 0, 8);
  }

  private bestLevel(va: number, oa: number, remaining: number): number {
    for (let l = Math.max(1, this.startLevel); l < 3; l++) {
      const b = this.blockBytes(l);
      if (blockSupported(this.granuleBits, l, this.pa52) && va % b === 0 && oa % b === 0 && remaining >= b) return l;
    }
    return 3;
  }
}

/** Creates a builder and maps `mappings` in order. */
export function buildPageTables(mem: PhysicalStore, cfg: PageTableConfig, mappings: readonly Mapping[] = []): PageTableBuilder {
  const b = new PageTableBuilder(mem, cfg);
  for (const m of mappings) b.map(m);
  return b;
}
