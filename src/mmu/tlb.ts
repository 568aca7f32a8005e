/**
 * TLBs for the EL1&0 regime: `Tlb`, a set-associative array of combined stage-1+stage-2 leaf
 * translations, and `WalkCache`, a cache of table (non-leaf) descriptors of both stages. Both are
 * flat typed arrays indexed by slot = set * ways + way, as `CacheArray` is, and share its
 * replacement policies (`cache/replacement.ts`). Neither reads memory, times anything or decides
 * what to cache: the PE's MMU looks up, walks on a miss, inserts, and applies TLBI scopes here.
 *
 * Input address convention (`va`, `top`): a VA is given as `va` = VA[51:0], a number below 2^52,
 * plus `top` = VA[55], the TTBR select (1 = TTBR1 half); `tlbVa` / `tlbTop` make both from the
 * walker's 32-bit halves. This loses nothing for a translation that succeeded: AArch64.VAIsOutOfRange
 * requires VA[top:inputsize] to equal VA[55], and with TBI VA[63:56] is ignored, so (VA[55],
 * VA[51:0]) names the input exactly. It also matches TLBI operands, which carry VA[55:12] and
 * never the tag byte. Contract: the caller does the VA range check (TxSZ, TBI, EPD; registers
 * only) before the lookup, as a walk would, so a hit never hides an out-of-range VA. `top` is
 * compared as an opaque tag (0..0xffff): a caller may pass more bits (VA[55:52], say, which is
 * 0 or 0xf for an in-range VA) as long as TLBI by VA passes the same form. With stage 1 off the
 * input is the IPA: pass top = 0.
 *
 * TLB maintenance: one method per architectural scope, Arm ARM DDI 0487J.a D8.13 "Translation
 * Lookaside Buffers" / D8.14 "TLB maintenance" (section numbers move between issues; the README
 * pins K.a): VMALLE1, VMALLS12E1, ALLE1, VAE1/VALE1, VAAE1/VAALE1, ASIDE1, IPAS2E1/IPAS2LE1. The
 * IS/OS forms have the same scope on other PEs: broadcasting is the caller's job. Removing more
 * than a scope requires is always allowed (a TLB may drop any entry at any time); removing less
 * is a bug, so every choice below errs towards removing.
 *
 * Contract:
 * - Nothing on the access path (lookup, probe, insert, the per-VA invalidations) allocates or
 *   uses BigInt. Whole-array scopes (by VMID, ASID, IPA, all) scan every slot: TLBI is rare.
 * - `lookup` counts a hit or miss and tells the replacement policy; `probe` does neither.
 * - The public typed arrays are for reading (accessors for the PE, dumps, tests); change entries
 *   only through insert / the invalidations, which keep the size bitmask and counts right.
 *
 * Not modelled: TLB conflict aborts (overlapping entries: the smallest page size wins, see
 * `Tlb.probe`), FEAT_TTL hints and FEAT_TLBIRANGE (callers may loop over pages), the EL2 and
 * EL2&0 regimes, Secure/Realm state, nXS forms (same scope here), lockdown, timing of lookups.
 */
import { createReplacement, type ReplacementKind, type ReplacementPolicy } from '../cache/index.js';
import { mod, type Rng, type StatsRegistry } from '../sim/index.js';
import { POW2, levelShift } from './descriptors.js';
import type { WalkResult } from './walk.js';

const TWO_32 = 4294967296;
/** INV_POW2[n] = 2^-n: x * 2^-n is exact, and a multiply is much cheaper than a divide. */
const INV_POW2: Float64Array = (() => {
  const a = new Float64Array(65);
  for (let i = 0; i <= 64; i++) a[i] = 2 ** -i;
  return a;
})();
/**
 * The set of page number `n` (an integer below 2^53) with `setMask` = sets - 1, sets a power of
 * two. Here the 32-bit truncation of `>>>` is what we want: ToUint32 is n mod 2^32, exactly, and
 * the set bits lie below bit 32. Twice as fast as `mod()` on the lookup path.
 */
const setIndex = (n: number, setMask: number): number => (n >>> 0) & setMask;

// ---------------------------------------------------------------------------------------------
// Input addresses and TLBI operands
// ---------------------------------------------------------------------------------------------

/** VA[51:0] of the 64-bit VA `vaHi:vaLo`: the `va` argument of `Tlb` and `WalkCache`. */
export const tlbVa = (vaHi: number, vaLo: number): number => (vaHi & 0xfffff) * TWO_32 + (vaLo >>> 0);
/** VA[55], the TTBR select: the `top` argument. */
export const tlbTop = (vaHi: number): number => (vaHi >>> 23) & 1;

/**
 * TLBI by VA operand Xt (`hi` = Xt[63:32], `lo` = Xt[31:0]): Xt[43:0] = VA[55:12], Xt[63:48] =
 * ASID (Arm ARM C5.5 "TLBI VAE1, TLBI VAE1IS, ..."). `tlbiOperandVa` gives VA[51:12] as an
 * address (the `va` argument), `tlbiOperandTop` VA[55], `tlbiOperandAsid` the ASID (with
 * TCR_EL1.AS=0 the caller keeps only bits [7:0]). Xt[47:44] (TTL, FEAT_TTL) is ignored.
 */
export const tlbiOperandVa = (hi: number, lo: number): number => ((hi & 0xff) * TWO_32 + (lo >>> 0)) * 4096;
export const tlbiOperandTop = (hi: number): number => (hi >>> 11) & 1;
export const tlbiOperandAsid = (hi: number): number => hi >>> 16;
/** TLBI IPAS2E1 operand: Xt[39:0] = IPA[51:12] (IPA[51:48] only with FEAT_LPA), as an address. */
export const tlbiOperandIpa = (hi: number, lo: number): number => ((hi & 0xff) * TWO_32 + (lo >>> 0)) * 4096;

// ---------------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------------

/** Counters of one TLB or walk cache (stable names: the `--json` stats tree). */
export class TlbStats {
  hits = 0; misses = 0; inserts = 0; evictions = 0;
  /** Entries removed by maintenance. */
  invalidations = 0;
  /** Maintenance operations applied (one per scope call, whatever it removed). */
  maintenanceOps = 0;
}

export function registerTlbStats(stats: StatsRegistry, path: string, s: TlbStats): void {
  const c = (desc: string) => ({ unit: 'count', desc });
  stats.add(path, s, {
    hits: c('lookups that found an entry'),
    misses: c('lookups that found none'),
    inserts: c('entries written (new or replacing a matching one)'),
    evictions: c('valid entries replaced to make room'),
    invalidations: c('entries removed by TLB maintenance'),
    maintenanceOps: c('TLB maintenance operations applied'),
  });
}

// ---------------------------------------------------------------------------------------------
// Tlb
// ---------------------------------------------------------------------------------------------

/** Smallest and largest page sizes (log2 bytes): 4KB, and a 4TB 64KB-granule level-1 block (FEAT_LPA). */
export const TLB_MIN_PAGE_LOG2 = 12;
export const TLB_MAX_PAGE_LOG2 = 42;

/** Entry flags (`Tlb.flags`). */
export const TLB_GLOBAL = 1;
/** Stage 1 was in effect: the entry holds a stage-1 translation (alone or combined). */
export const TLB_S1 = 2;
/** Stage 2 was in effect: `ipa` / `s2Log2` describe the stage-2 mapping. */
export const TLB_S2 = 4;
/**
 * The entry's ASID is not shared with the PEs (an SMMU context with CD.ASET=1): invalidations by
 * VA or ASID called with `keepNonShared` leave it (broadcast TLBIs need not reach such entries).
 */
export const TLB_NONSHARED = 8;

export interface TlbConfig {
  entries: number;
  /** Ways per set; `ways === entries` is fully associative. entries / ways must be a power of two. */
  ways: number;
  /** Default 'lru'. 'random' needs an `Rng` in the constructor. */
  replacement?: ReplacementKind;
  /**
   * Page sizes in bytes the TLB holds (powers of two, 4KB..4TB). A larger translation is held as
   * the largest listed size not above it, around the VA looked up (splintering, as TLBs without a
   * size do); one smaller than every listed size is not held (`insert` returns -1).
   * Default: every size, so nothing is splintered.
   */
  pageSizes?: readonly number[];
  /**
   * Whether TLBI IPAS2E1/IPAS2LE1 also removes combined stage-1+2 entries. Arm ARM C5.5 "TLBI
   * IPAS2E1": it invalidates "stage 2 only translations"; entries that combine both stages need not
   * be invalidated, so software follows it with TLBI VMALLE1 (the sequence in D8.14 "TLB
   * maintenance"). false (default): combined entries stay, stage-2-only entries (stage 1 off) go,
   * which shows software that forgets the VMALLE1. true: a combined entry whose stage-2 mapping
   * contains the IPA goes too.
   */
  ipaInvalidatesCombined?: boolean;
}

const TLB_CONFIG_KEYS: readonly string[] = ['entries', 'ways', 'replacement', 'pageSizes', 'ipaInvalidatesCombined'];

function checkKeys(what: string, cfg: object, keys: readonly string[]): void {
  for (const k of Object.keys(cfg)) {
    if (!keys.includes(k)) throw new RangeError(`${what}: unknown key ${JSON.stringify(k)}; expected one of ${keys.join(', ')}`);
  }
}

function checkSetsFrom(what: string, entries: number, ways: number): number {
  if (!(Number.isInteger(ways) && ways >= 1 && ways <= 256)) throw new RangeError(`${what}: ways ${ways} must be an integer in 1..256`);
  if (!(Number.isInteger(entries) && entries >= ways)) throw new RangeError(`${what}: entries ${entries} must be an integer of at least ways = ${ways}`);
  const sets = entries / ways;
  if (!(Number.isInteger(sets) && Number.isInteger(Math.log2(sets)))) {
    throw new RangeError(`${what}: entries / ways = ${entries} / ${ways} = ${sets} sets; the set count must be a power of two`);
  }
  return sets;
}

/** log2 of `bytes` if it is a power of two in 2^lo..2^hi, else -1. */
function log2Of(bytes: number, lo: number, hi: number): number {
  if (!(bytes > 0)) return -1;
  const l = Math.log2(bytes);
  return Number.isInteger(l) && l >= lo && l <= hi ? l : -1;
}

/**
 * A TLB of combined stage-1+stage-2 leaf translations for one PE (or one level of its TLBs).
 *
 * An entry maps the input page floor(va / pageBytes) of the half `top`, tagged with VMID and,
 * unless global, ASID, to the output page at `paBase`, with the final packed `attrs` and `perms`
 * (PERM_* of walk.ts, both ELs). With stage 2 it also keeps the IPA of the page and the size of
 * the stage-2 mapping (`s2Bytes`), for TLBI by IPA.
 *
 * Lookup with mixed sizes: each entry is placed in set `vpn mod sets` by the page number of its
 * own size, so a lookup probes one set per size present. `sizeMask` has bit (log2 - 12) set while
 * any entry of that size is valid, so a TLB holding only 4KB pages probes once.
 */
export class Tlb {
  readonly entries: number;
  readonly ways: number;
  readonly sets: number;
  private readonly setMask: number;
  /** The slot of the last hit (`probe`'s fast path); -1 for none. */
  private mru = -1;
  readonly ipaInvalidatesCombined: boolean;
  readonly policy: ReplacementPolicy;
  // Struct of arrays, one element per slot. Private: read through the accessors below, so that
  // the size bitmask and counts can never disagree with the entries.
  /** Input page number of the entry's own size; -1 when the slot is invalid. */
  private readonly vpnA: Float64Array;
  /** log2 of the entry's page size (12..42). */
  private readonly sizeA: Uint8Array;
  private readonly topA: Uint16Array;
  private readonly asidA: Uint16Array;
  private readonly vmidA: Uint16Array;
  /** TLB_GLOBAL | TLB_S1 | TLB_S2. */
  private readonly flagsA: Uint8Array;
  /** PERM_* after both stages. */
  private readonly permsA: Uint8Array;
  /** Final packed attributes (`effectiveAttrs`). */
  private readonly attrsA: Int32Array;
  /** Output address of the page start. */
  private readonly paA: Float64Array;
  /** IPA of the page start (the input address with stage 1 off; 0 without stage 2). */
  private readonly ipaA: Float64Array;
  /** log2 of the stage-2 mapping size the entry came from; 0 without stage 2. */
  private readonly s2A: Uint8Array;
  /** Bit (log2 - 12) set while an entry of that size is valid. */
  sizeMask = 0;
  /** Bit (log2 - 12) set for each size the TLB holds (config). */
  readonly heldMask: number;
  private readonly sizeCount = new Int32Array(TLB_MAX_PAGE_LOG2 - TLB_MIN_PAGE_LOG2 + 1);
  private readonly validWays: Uint16Array;

  constructor(config: TlbConfig, rng?: Rng, readonly stats: TlbStats = new TlbStats()) {
    checkKeys('tlb', config, TLB_CONFIG_KEYS);
    this.sets = checkSetsFrom('tlb', config.entries, config.ways);
    this.setMask = this.sets - 1;
    this.entries = config.entries;
    this.ways = config.ways;
    this.ipaInvalidatesCombined = config.ipaInvalidatesCombined ?? false;
    let held = 0;
    if (config.pageSizes === undefined) {
      for (let l = TLB_MIN_PAGE_LOG2; l <= TLB_MAX_PAGE_LOG2; l++) held |= 1 << (l - TLB_MIN_PAGE_LOG2);
    } else {
      if (config.pageSizes.length === 0) throw new RangeError('tlb: pageSizes must list at least one size');
      for (const b of config.pageSizes) {
        const l = log2Of(b, TLB_MIN_PAGE_LOG2, TLB_MAX_PAGE_LOG2);
        if (l < 0) throw new RangeError(`tlb: pageSizes: ${b} is not a power of two from 4096 (4KB) to 2^42 (4TB)`);
        held |= 1 << (l - TLB_MIN_PAGE_LOG2);
      }
    }
    this.heldMask = held;
    const n = this.entries;
    this.vpnA = new Float64Array(n).fill(-1);
    this.sizeA = new Uint8Array(n);
    this.topA = new Uint16Array(n);
    this.asidA = new Uint16Array(n);
    this.vmidA = new Uint16Array(n);
    this.flagsA = new Uint8Array(n);
    this.permsA = new Uint8Array(n);
    this.attrsA = new Int32Array(n);
    this.paA = new Float64Array(n);
    this.ipaA = new Float64Array(n);
    this.s2A = new Uint8Array(n);
    this.validWays = new Uint16Array(this.sets);
    this.policy = createReplacement(config.replacement ?? 'lru', this.sets, this.ways, rng);
  }

  // -------------------------------------------------------------------------------------------
  // Lookup
  // -------------------------------------------------------------------------------------------

  /** The slot translating (va, top) for (asid, vmid), or -1; counts a hit or miss and touches the slot. */
  lookup(va: number, top: number, asid: number, vmid: number): number {
    const s = this.probe(va, top, asid, vmid);
    if (s >= 0) { this.stats.hits++; this.policy.touch(s); } else this.stats.misses++;
    return s;
  }

  /**
   * As `lookup`, without touching stats or replacement state (it only remembers the slot for its
   * own fast path). Sizes are probed smallest first, so if overlapping entries
   * of different sizes exist (the page tables changed without break-before-make and the TLBI that
   * should follow; a TLB conflict in the Arm ARM) the smallest page wins. Global entries match any
   * ASID of their VMID.
   */
  probe(va: number, top: number, asid: number, vmid: number): number {
    const ways = this.ways, setMask = this.setMask;
    const vpnA = this.vpnA, szA = this.sizeA, topA = this.topA, vmidA = this.vmidA, asidA = this.asidA, flagsA = this.flagsA;
    // Fast path: the last slot hit, if it is of the smallest size present (so no smaller page can
    // shadow it) and still matches. Consecutive accesses mostly stay in one page.
    const mru = this.mru, m0 = this.sizeMask;
    if (mru >= 0) {
      const l = szA[mru]!;
      if ((m0 & -m0) === 1 << (l - TLB_MIN_PAGE_LOG2) && vpnA[mru] === Math.floor(va * INV_POW2[l]!) && topA[mru] === top
        && vmidA[mru] === vmid && ((flagsA[mru]! & TLB_GLOBAL) !== 0 || asidA[mru] === asid)) return mru;
    }
    let m = m0;
    while (m !== 0) {
      const low = m & -m;
      m ^= low;
      const log2 = 31 - Math.clz32(low) + TLB_MIN_PAGE_LOG2;
      const vpn = Math.floor(va * INV_POW2[log2]!);
      const base = setIndex(vpn, setMask) * ways;
      for (let i = base, end = base + ways; i < end; i++) {
        if (vpnA[i] === vpn && szA[i] === log2 && topA[i] === top && vmidA[i] === vmid && ((flagsA[i]! & TLB_GLOBAL) !== 0 || asidA[i] === asid)) return (this.mru = i);
      }
    }
    return -1;
  }

  // -------------------------------------------------------------------------------------------
  // Accessors (slot from lookup/probe)
  // -------------------------------------------------------------------------------------------

  /** Output address of `va` through `slot`. */
  output(slot: number, va: number): number { return this.paA[slot]! + mod(va, POW2[this.sizeA[slot]!]!); }
  /** Output address of the page start. */
  paBase(slot: number): number { return this.paA[slot]!; }
  /** Input address (VA[51:0], or the IPA with stage 1 off) of the page start. */
  vaBase(slot: number): number { return this.vpnA[slot]! * POW2[this.sizeA[slot]!]!; }
  /** IPA of the page start (with stage 2, or with stage 1 off; else 0). */
  ipaBase(slot: number): number { return this.ipaA[slot]!; }
  /** Bytes the entry covers (after any splintering). */
  pageBytes(slot: number): number { return POW2[this.sizeA[slot]!]!; }
  /** Final packed attributes. */
  attrs(slot: number): number { return this.attrsA[slot]!; }
  /** PERM_* after both stages (use `permissionFault`). */
  perms(slot: number): number { return this.permsA[slot]!; }
  top(slot: number): number { return this.topA[slot]!; }
  /** The ASID tag (0 for a global entry). */
  asid(slot: number): number { return this.asidA[slot]!; }
  vmid(slot: number): number { return this.vmidA[slot]!; }
  /** TLB_GLOBAL | TLB_S1 | TLB_S2. */
  flags(slot: number): number { return this.flagsA[slot]!; }
  /** Size of the stage-2 mapping the entry came from, 0 without stage 2. */
  s2Bytes(slot: number): number { return (this.flagsA[slot]! & TLB_S2) !== 0 ? POW2[this.s2A[slot]!]! : 0; }
  isGlobal(slot: number): boolean { return (this.flagsA[slot]! & TLB_GLOBAL) !== 0; }
  hasStage1(slot: number): boolean { return (this.flagsA[slot]! & TLB_S1) !== 0; }
  hasStage2(slot: number): boolean { return (this.flagsA[slot]! & TLB_S2) !== 0; }
  isValid(slot: number): boolean { return this.vpnA[slot] !== -1; }

  // -------------------------------------------------------------------------------------------
  // Insert
  // -------------------------------------------------------------------------------------------

  /**
   * Caches a translation of `va` and returns its slot, or -1 if `pageBytes` is below every size
   * the TLB holds. `pa` and `ipa` are the output and IPA of `va` itself (not page starts: the TLB
   * aligns them, which lets it splinter a large page around `va`). `pageBytes` is the size the
   * translation may cover (power of two, 4KB..4TB: a page, a block or a contiguous span, the
   * smaller of the two stages); `s2Bytes` the stage-2 mapping size (>= pageBytes) when `flags` has
   * TLB_S2, else ignored. `asid` is ignored for a global entry.
   *
   * An entry of the same size that the new one would shadow or be shadowed by (same page, top and
   * VMID, and same ASID or either global) is overwritten, so within one size at most one entry
   * matches any lookup. Otherwise the victim is the lowest invalid way, else the policy's choice.
   */
  insertEntry(
    va: number, top: number, asid: number, vmid: number, pageBytes: number,
    pa: number, ipa: number, attrs: number, perms: number, flags: number, s2Bytes: number,
  ): number {
    const pageLog2 = log2Of(pageBytes, TLB_MIN_PAGE_LOG2, TLB_MAX_PAGE_LOG2);
    if (pageLog2 < 0) throw new RangeError(`tlb insert: pageBytes ${pageBytes} is not a power of two from 4096 to 2^42`);
    const fits = this.heldMask & (POW2[pageLog2 - TLB_MIN_PAGE_LOG2 + 1]! - 1);
    if (fits === 0) return -1;
    const log2 = 31 - Math.clz32(fits) + TLB_MIN_PAGE_LOG2;
    const hasS2 = (flags & TLB_S2) !== 0;
    let s2Log2 = 0;
    if (hasS2) {
      s2Log2 = log2Of(s2Bytes, TLB_MIN_PAGE_LOG2, TLB_MAX_PAGE_LOG2);
      if (s2Log2 < pageLog2) throw new RangeError(`tlb insert: s2Bytes ${s2Bytes} must be a power of two of at least pageBytes ${pageBytes}`);
    }
    const global = (flags & TLB_GLOBAL) !== 0;
    const size = POW2[log2]!;
    const vpn = Math.floor(va / size);
    const off = va - vpn * size;
    const ways = this.ways, set = setIndex(vpn, this.setMask), base = set * ways;
    const vpnA = this.vpnA, szA = this.sizeA, topA = this.topA, vmidA = this.vmidA, asidA = this.asidA, flagsA = this.flagsA;

    let slot = -1;
    for (let i = base, end = base + ways; i < end; i++) {
      if (vpnA[i] === vpn && szA[i] === log2 && topA[i] === top && vmidA[i] === vmid
        && (global || (flagsA[i]! & TLB_GLOBAL) !== 0 || asidA[i] === asid)) {
        if (slot < 0) slot = i;
        else this.remove(i);                 // a global entry replacing several ASIDs' entries
      }
    }
    if (slot >= 0) {
      this.remove(slot);
    } else {
      if (this.validWays[set] !== ways) {
        for (let i = base, end = base + ways; i < end; i++) if (vpnA[i] === -1) { slot = i; break; }
      }
      if (slot < 0) {
        slot = base + this.policy.victim(set);
        this.remove(slot);
        this.stats.evictions++;
      }
    }
    vpnA[slot] = vpn;
    szA[slot] = log2;
    topA[slot] = top;
    vmidA[slot] = vmid;
    asidA[slot] = global ? 0 : asid;
    flagsA[slot] = flags & (TLB_GLOBAL | TLB_S1 | TLB_S2 | TLB_NONSHARED);
    this.permsA[slot] = perms;
    this.attrsA[slot] = attrs;
    this.paA[slot] = pa - off;
    this.ipaA[slot] = ipa - off;
    this.s2A[slot] = s2Log2;
    const b = log2 - TLB_MIN_PAGE_LOG2;
    if (this.sizeCount[b]!++ === 0) this.sizeMask |= 1 << b;
    this.validWays[set]!++;
    this.policy.fill(slot);
    this.stats.inserts++;
    return slot;
  }

  /**
   * Caches the walker's result for (va, top) (from `tlbVa`/`tlbTop`) and returns the slot, as
   * `insertEntry` does. `pageBytes` defaults to `r.pageBytes` (pass a contiguous span when both
   * stages allow it) and `s2Bytes` to `r.s2BlockBytes`. Returns -1 without caching when neither
   * stage was on (`r.pageBytes` 0: there is no TLB entry for a translation regime with the MMU off).
   */
  insert(va: number, top: number, r: WalkResult, pageBytes = r.pageBytes, s2Bytes = r.s2BlockBytes): number {
    if (pageBytes === 0) return -1;
    const flags = (r.global ? TLB_GLOBAL : 0) | (r.s1Level >= 0 ? TLB_S1 : 0) | (r.s2Level >= 0 ? TLB_S2 : 0);
    return this.insertEntry(va, top, r.asid, r.vmid, pageBytes, r.pa, r.ipa, r.attrs, r.perms, flags, s2Bytes);
  }

  /**
   * Copies `slot` of `from` (another TLB, e.g. the L2 TLB on an L1 refill) into this one for the
   * same page, splintered around `va` if this TLB does not hold that size. Returns the slot or -1.
   */
  copyFrom(from: Tlb, slot: number, va = from.vaBase(slot)): number {
    const off = mod(va, POW2[from.sizeA[slot]!]!);
    return this.insertEntry(
      va, from.topA[slot]!, from.asidA[slot]!, from.vmidA[slot]!, POW2[from.sizeA[slot]!]!,
      from.paA[slot]! + off, from.ipaA[slot]! + off, from.attrsA[slot]!, from.permsA[slot]!, from.flagsA[slot]!,
      from.s2Bytes(slot),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Maintenance: one method per TLBI scope, each returning the entries removed
  // -------------------------------------------------------------------------------------------

  /** TLBI ALLE1 (and VMALLS12E1 for every VMID): everything. */
  invalidateAll(): number {
    let n = 0;
    for (let i = 0; i < this.entries; i++) if (this.vpnA[i] !== -1) { this.remove(i); n++; }
    return this.counted(n);
  }

  /**
   * TLBI VMALLS12E1 (stage 1 and 2 of the VMID) and TLBI VMALLE1 (stage 1 of the VMID): every
   * entry of `vmid`. Entries here are combined, so both scopes remove all of them (VMALLE1 may
   * leave stage-2-only entries; removing them as well is allowed).
   */
  invalidateVmid(vmid: number): number {
    let n = 0;
    for (let i = 0; i < this.entries; i++) if (this.vpnA[i] !== -1 && this.vmidA[i] === vmid) { this.remove(i); n++; }
    return this.counted(n);
  }

  /**
   * TLBI VAE1 / VALE1: entries of `vmid` whose page (any size, blocks and spans included) contains
   * (va, top) and that are global or tagged `asid`. `lastLevelOnly` (VALE1) removes the same leaf
   * entries: every entry here is a leaf (the last level of its walk, a block or a page); the
   * difference is in `WalkCache`. Probes one set per size present.
   */
  invalidateVa(va: number, top: number, asid: number, vmid: number, lastLevelOnly: boolean, keepNonShared = false): number {
    return this.counted(this.removeVa(va, top, asid, vmid, false, keepNonShared ? TLB_NONSHARED : 0));
  }

  /** TLBI VAAE1 / VAALE1: as `invalidateVa` for every ASID (global or not). */
  invalidateVaAllAsid(va: number, top: number, vmid: number, lastLevelOnly: boolean, keepNonShared = false): number {
    return this.counted(this.removeVa(va, top, 0, vmid, true, keepNonShared ? TLB_NONSHARED : 0));
  }

  /** TLBI ASIDE1: non-global entries of (asid, vmid); global entries stay (and TLB_NONSHARED ones with `keepNonShared`). */
  invalidateAsid(asid: number, vmid: number, keepNonShared = false): number {
    const keep = TLB_GLOBAL | (keepNonShared ? TLB_NONSHARED : 0);
    let n = 0;
    for (let i = 0; i < this.entries; i++) {
      if (this.vpnA[i] !== -1 && this.vmidA[i] === vmid && (this.flagsA[i]! & keep) === 0 && this.asidA[i] === asid) { this.remove(i); n++; }
    }
    return this.counted(n);
  }

  /**
   * TLBI IPAS2E1 / IPAS2LE1: entries of `vmid` with stage 2 whose stage-2 mapping (`s2Bytes`)
   * contains `ipa`: stage-2-only entries always, combined ones only with `ipaInvalidatesCombined`
   * (see `TlbConfig`). `lastLevelOnly` (IPAS2LE1) removes the same leaf entries.
   */
  invalidateIpa(ipa: number, vmid: number, lastLevelOnly: boolean): number {
    const combined = this.ipaInvalidatesCombined;
    let n = 0;
    for (let i = 0; i < this.entries; i++) {
      if (this.vpnA[i] === -1 || this.vmidA[i] !== vmid) continue;
      const f = this.flagsA[i]!;
      if ((f & TLB_S2) === 0 || (!combined && (f & TLB_S1) !== 0)) continue;
      const s2Size = POW2[this.s2A[i]!]!;
      if (Math.floor(ipa / s2Size) === Math.floor(this.ipaA[i]! / s2Size)) { this.remove(i); n++; }
    }
    return this.counted(n);
  }

  // -------------------------------------------------------------------------------------------

  /** Valid entries (a scan: tests and reports). */
  countValid(): number {
    let n = 0;
    for (let s = 0; s < this.sets; s++) n += this.validWays[s]!;
    return n;
  }

  /** Calls `fn` for every valid slot (dumps, tests). Not for the access path. */
  forEachValid(fn: (slot: number) => void): void {
    for (let i = 0; i < this.entries; i++) if (this.vpnA[i] !== -1) fn(i);
  }

  /** Everything invalid, replacement state as constructed; stats are left alone. */
  reset(): void {
    this.vpnA.fill(-1);
    this.mru = -1;
    this.sizeCount.fill(0);
    this.sizeMask = 0;
    this.validWays.fill(0);
    this.policy.reset();
  }

  /** Removes the entries invalidateVa / invalidateVaAllAsid name, but those with a flag in `keep`. */
  private removeVa(va: number, top: number, asid: number, vmid: number, anyAsid: boolean, keep: number): number {
    const ways = this.ways, setMask = this.setMask;
    let n = 0;
    let m = this.sizeMask;
    while (m !== 0) {
      const low = m & -m;
      m ^= low;
      const log2 = 31 - Math.clz32(low) + TLB_MIN_PAGE_LOG2;
      const vpn = Math.floor(va * INV_POW2[log2]!);
      const base = setIndex(vpn, setMask) * ways;
      for (let i = base, end = base + ways; i < end; i++) {
        if (this.vpnA[i] === vpn && this.sizeA[i] === log2 && this.topA[i] === top && this.vmidA[i] === vmid && (this.flagsA[i]! & keep) === 0
          && (anyAsid || (this.flagsA[i]! & TLB_GLOBAL) !== 0 || this.asidA[i] === asid)) { this.remove(i); n++; }
      }
    }
    return n;
  }

  private counted(n: number): number {
    this.stats.maintenanceOps++;
    this.stats.invalidations += n;
    return n;
  }

  /** Empties a valid slot, keeping the size counts and per-set counts. */
  private remove(slot: number): void {
    const b = this.sizeA[slot]! - TLB_MIN_PAGE_LOG2;
    if (--this.sizeCount[b]! === 0) this.sizeMask &= ~(1 << b);
    this.validWays[(slot / this.ways) | 0]!--;
    this.vpnA[slot] = -1;
    this.policy.invalidate(slot);
  }
}

// ---------------------------------------------------------------------------------------------
// WalkCache
// ---------------------------------------------------------------------------------------------

/** Packed accumulated stage-1 table attributes: APTable[1:0] | UXNTable << 2 | PXNTable << 3. */
export const packTableAttrs = (apTable: number, uxnTable: number, pxnTable: number): number =>
  (apTable & 3) | ((uxnTable & 1) << 2) | ((pxnTable & 1) << 3);
export const tableAttrsAP = (t: number): number => t & 3;
export const tableAttrsUXN = (t: number): number => (t >>> 2) & 1;
export const tableAttrsPXN = (t: number): number => (t >>> 3) & 1;

export interface WalkCacheConfig {
  entries: number;
  /** Ways per set; default `entries` (fully associative). entries / ways must be a power of two. */
  ways?: number;
  /** Default 'lru'; 'random' needs an `Rng`. */
  replacement?: ReplacementKind;
}

const WALK_CACHE_CONFIG_KEYS: readonly string[] = ['entries', 'ways', 'replacement'];

/**
 * Cached table descriptors of both stages (an intermediate-level walk cache). An entry says: in
 * `stage`, the descriptor at `level` that translates inputs with prefix floor(input / 2^shift),
 * shift = levelShift(granule, level), is a table at `nextTable`, with the stage-1 table
 * attributes accumulated down to that level (`packTableAttrs`; 0 at stage 2). A walk that finds
 * it resumes at level + 1 reading `nextTable`.
 *
 * Tags: stage 1 by VMID, ASID and `top` (the TTBR half); stage 2 by VMID only (top and ASID are
 * stored as 0). Stage-1 `nextTable` is the descriptor's address as written, an IPA when stage 2
 * is on: the walker still translates it through stage 2, so a stage-2 change never leaves a
 * stale stage-1 entry here (TLBI by IPA need not touch stage-1 entries).
 *
 * Maintenance (Arm ARM D8.14 "TLB maintenance"): the by-VA scopes without "L" must invalidate
 * cached table entries from any level of the walk for that VA; the last-level forms (VALE1,
 * VAALE1, IPAS2LE1) need not, and here leave this cache alone. Choice: by-VA invalidation removes
 * the VA's stage-1 entries of every ASID, not only the named one, because table entries carry no
 * nG bit and may be shared between ASIDs (removing more is always allowed).
 *
 * Set index: prefix mod sets, so one probe per level; `levelMask` skips levels with no entries.
 */
export class WalkCache {
  readonly entries: number;
  readonly ways: number;
  readonly sets: number;
  private readonly setMask: number;
  readonly policy: ReplacementPolicy;
  /** Input prefix floor(input / 2^shift); -1 when the slot is invalid. */
  readonly prefix: Float64Array;
  readonly shift: Uint8Array;
  /** stage << 2 | level. */
  readonly stageLevel: Uint8Array;
  readonly top: Uint16Array;
  readonly asid: Uint16Array;
  readonly vmid: Uint16Array;
  /** Address of the next-level table (an IPA for stage 1 with stage 2 on). */
  readonly nextTable: Float64Array;
  /** Accumulated table attributes (`packTableAttrs`). */
  readonly tableAttrs: Uint8Array;
  /** Bit (stage << 2 | level) set while an entry of that stage and level is valid. */
  levelMask = 0;
  private readonly levelCount = new Int32Array(16);
  private readonly validWays: Uint16Array;

  constructor(config: WalkCacheConfig, rng?: Rng, readonly stats: TlbStats = new TlbStats()) {
    checkKeys('walk cache', config, WALK_CACHE_CONFIG_KEYS);
    this.ways = config.ways ?? config.entries;
    this.sets = checkSetsFrom('walk cache', config.entries, this.ways);
    this.setMask = this.sets - 1;
    this.entries = config.entries;
    const n = this.entries;
    this.prefix = new Float64Array(n).fill(-1);
    this.shift = new Uint8Array(n);
    this.stageLevel = new Uint8Array(n);
    this.top = new Uint16Array(n);
    this.asid = new Uint16Array(n);
    this.vmid = new Uint16Array(n);
    this.nextTable = new Float64Array(n);
    this.tableAttrs = new Uint8Array(n);
    this.validWays = new Uint16Array(this.sets);
    this.policy = createReplacement(config.replacement ?? 'lru', this.sets, this.ways, rng);
  }

  /**
   * The slot caching the table descriptor at (`stage`, `level`) for `input` (a VA[51:0] for stage
   * 1, an IPA for stage 2), or -1. No side effect.
   */
  probe(stage: 1 | 2, level: number, granuleBits: number, input: number, top: number, asid: number, vmid: number): number {
    const sl = stage << 2 | level;
    if ((this.levelMask & (1 << sl)) === 0) return -1;
    if (stage === 2) { top = 0; asid = 0; }
    const prefix = Math.floor(input * INV_POW2[levelShift(granuleBits, level)]!);
    const ways = this.ways, base = setIndex(prefix, this.setMask) * ways;
    const pA = this.prefix, slA = this.stageLevel, topA = this.top, asidA = this.asid, vmidA = this.vmid;
    for (let i = base, end = base + ways; i < end; i++) {
      if (pA[i] === prefix && slA[i] === sl && vmidA[i] === vmid && topA[i] === top && asidA[i] === asid) return i;
    }
    return -1;
  }

  /** As `probe`, counting a hit or miss and touching the slot on a hit. */
  lookup(stage: 1 | 2, level: number, granuleBits: number, input: number, top: number, asid: number, vmid: number): number {
    const s = this.probe(stage, level, granuleBits, input, top, asid, vmid);
    if (s >= 0) { this.stats.hits++; this.policy.touch(s); } else this.stats.misses++;
    return s;
  }

  /**
   * The deepest cached table descriptor for `input`: probes levels 2 down to `startLevel` (level 3
   * never holds a table) and returns the first slot found, or -1. Counts one hit or miss. The
   * walk resumes at `levelOf(slot) + 1`, at `nextTable[slot]`, with `tableAttrs[slot]`.
   */
  lookupDeepest(stage: 1 | 2, input: number, top: number, asid: number, vmid: number, startLevel: number, granuleBits: number): number {
    for (let level = 2; level >= startLevel; level--) {
      const s = this.probe(stage, level, granuleBits, input, top, asid, vmid);
      if (s >= 0) { this.stats.hits++; this.policy.touch(s); return s; }
    }
    this.stats.misses++;
    return -1;
  }

  levelOf(slot: number): number { return this.stageLevel[slot]! & 3; }
  stageOf(slot: number): number { return this.stageLevel[slot]! >>> 2; }
  isValid(slot: number): boolean { return this.prefix[slot] !== -1; }

  /**
   * Caches the table descriptor read at (`stage`, `level`, 0..2) while translating `input`:
   * `nextTable` (< 2^52) and the accumulated table attributes. Overwrites the same key; otherwise
   * the lowest invalid way, else the policy's victim. Returns the slot.
   */
  insert(
    stage: 1 | 2, level: number, granuleBits: number, input: number, top: number, asid: number, vmid: number,
    nextTable: number, tableAttrs: number,
  ): number {
    if (!(level >= 0 && level <= 2)) throw new RangeError(`walk cache insert: level ${level} holds no table descriptor (0..2)`);
    if (stage === 2) { top = 0; asid = 0; tableAttrs = 0; }
    const sl = stage << 2 | level;
    const shift = levelShift(granuleBits, level);
    const prefix = Math.floor(input * INV_POW2[shift]!);
    const ways = this.ways, set = setIndex(prefix, this.setMask), base = set * ways;
    let slot = -1;
    for (let i = base, end = base + ways; i < end; i++) {
      if (this.prefix[i] === prefix && this.stageLevel[i] === sl && this.vmid[i] === vmid && this.top[i] === top && this.asid[i] === asid) { slot = i; break; }
    }
    if (slot >= 0) {
      this.remove(slot);
    } else {
      if (this.validWays[set] !== ways) {
        for (let i = base, end = base + ways; i < end; i++) if (this.prefix[i] === -1) { slot = i; break; }
      }
      if (slot < 0) {
        slot = base + this.policy.victim(set);
        this.remove(slot);
        this.stats.evictions++;
      }
    }
    this.prefix[slot] = prefix;
    this.shift[slot] = shift;
    this.stageLevel[slot] = sl;
    this.top[slot] = top;
    this.asid[slot] = asid;
    this.vmid[slot] = vmid;
    this.nextTable[slot] = nextTable;
    this.tableAttrs[slot] = tableAttrs;
    if (this.levelCount[sl]!++ === 0) this.levelMask |= 1 << sl;
    this.validWays[set]!++;
    this.policy.fill(slot);
    this.stats.inserts++;
    return slot;
  }

  // -------------------------------------------------------------------------------------------
  // Maintenance (same scopes as Tlb; each returns the entries removed)
  // -------------------------------------------------------------------------------------------

  /** TLBI ALLE1: everything. */
  invalidateAll(): number {
    let n = 0;
    for (let i = 0; i < this.entries; i++) if (this.prefix[i] !== -1) { this.remove(i); n++; }
    return this.counted(n);
  }

  /**
   * TLBI VMALLS12E1 (`includeStage2`, the default: stage-1 and stage-2 entries of `vmid`) and
   * VMALLE1 (false: stage-1 entries of `vmid` only; passing true is allowed, it removes more).
   */
  invalidateVmid(vmid: number, includeStage2 = true): number {
    let n = 0;
    for (let i = 0; i < this.entries; i++) {
      if (this.prefix[i] !== -1 && this.vmid[i] === vmid && (includeStage2 || this.stageLevel[i]! >>> 2 === 1)) { this.remove(i); n++; }
    }
    return this.counted(n);
  }

  /**
   * TLBI VAE1 and VAAE1: stage-1 entries of `vmid` and `top` used to translate `va`, at every
   * level and of every ASID (the choice above, so the two scopes are one call here). VALE1 and
   * VAALE1 (`lastLevelOnly`) remove nothing here.
   */
  invalidateVa(va: number, top: number, vmid: number, lastLevelOnly = false): number {
    return this.counted(lastLevelOnly ? 0 : this.removeCovering(1, va, top, vmid));
  }

  /** TLBI ASIDE1: stage-1 entries of (asid, vmid). */
  invalidateAsid(asid: number, vmid: number): number {
    let n = 0;
    for (let i = 0; i < this.entries; i++) {
      if (this.prefix[i] !== -1 && this.stageLevel[i]! >>> 2 === 1 && this.vmid[i] === vmid && this.asid[i] === asid) { this.remove(i); n++; }
    }
    return this.counted(n);
  }

  /** TLBI IPAS2E1: stage-2 entries of `vmid` used to translate `ipa`, every level; IPAS2LE1 (`lastLevelOnly`): nothing here. */
  invalidateIpa(ipa: number, vmid: number, lastLevelOnly = false): number {
    return this.counted(lastLevelOnly ? 0 : this.removeCovering(2, ipa, 0, vmid));
  }

  countValid(): number {
    let n = 0;
    for (let s = 0; s < this.sets; s++) n += this.validWays[s]!;
    return n;
  }

  forEachValid(fn: (slot: number) => void): void {
    for (let i = 0; i < this.entries; i++) if (this.prefix[i] !== -1) fn(i);
  }

  reset(): void {
    this.prefix.fill(-1);
    this.levelCount.fill(0);
    this.levelMask = 0;
    this.validWays.fill(0);
    this.policy.reset();
  }

  /** Entries of `stage` whose range contains `input` (a scan: by-VA TLBI is rare and levels vary). */
  private removeCovering(stage: number, input: number, top: number, vmid: number): number {
    let n = 0;
    for (let i = 0; i < this.entries; i++) {
      const p = this.prefix[i]!;
      if (p === -1 || this.stageLevel[i]! >>> 2 !== stage || this.vmid[i] !== vmid || this.top[i] !== top) continue;
      if (Math.floor(input / POW2[this.shift[i]!]!) === p) { this.remove(i); n++; }
    }
    return n;
  }

  private counted(n: number): number {
    this.stats.maintenanceOps++;
    this.stats.invalidations += n;
    return n;
  }

  private remove(slot: number): void {
    const sl = this.stageLevel[slot]!;
    if (--this.levelCount[sl]! === 0) this.levelMask &= ~(1 << sl);
    this.validWays[(slot / this.ways) | 0]!--;
    this.prefix[slot] = -1;
    this.policy.invalidate(slot);
  }
}
