/**
 * A slow, plainly written translation for differential tests of the step-machine walker: it
 * starts from the raw register values, works on 64-element bit arrays so every field reads like
 * the Arm ARM's `desc<47:12>`, recurses level by level, reads descriptors through a callback and
 * throws a fault record to stop. It shares no decoding or walking code with regime.ts,
 * descriptors.ts or walk.ts; it shares attrs.ts (decodeMair, decodeS2MemAttr, decodeWalkAttrs,
 * s2TableWalkAttrs, effectiveAttrs), which has its own ASL-shaped reference.
 *
 * Written from: ASL AArch64.S1Translate, AArch64.S1Walk, AArch64.S2Translate, AArch64.S2Walk,
 * AArch64.S1StartLevel, AArch64.S2StartLevel, AArch64.S2InvalidSL, AArch64.S2InconsistentSL,
 * AArch64.BlockDescSupported, AArch64.S1DirectBasePermissions, AArch64.S2CheckPermissions,
 * AArch64.TranslateAddressS1Off (v8.0), AddrTop, AArch64.VAIsOutOfRange; Arm ARM D8. Hardware
 * Access flag and dirty state (FEAT_HAFDBS) from the v8.x AArch64.CheckAndUpdateDescriptor shape:
 * the update is decided after the permission check, a stage-1 update under stage 2 translates
 * its descriptor's page again as a write (hwupdatewalk), and a failed swap repeats the whole
 * translation (the v9 ASL's repeat loop).
 */
import {
  ATTR_FAULT_S1_PERMISSION, ATTR_FAULT_S2_PERMISSION, AccessKind, attrIsDevice,
  decodeMair, decodeS2MemAttr, decodeWalkAttrs, effectiveAttrs, s2TableWalkAttrs,
  type AttrContext, type AttrOptions,
} from './attrs.js';
import { AccessType, FaultType, faultStatusCode } from './faults.js';
import type { MmuFeatures, RegimeRegisters } from './regime.js';

type Bits = number[];

function bits64(lo: number, hi: number): Bits {
  const b: Bits = [];
  for (let i = 0; i < 32; i++) b.push(Math.floor((lo >>> 0) / 2 ** i) % 2);
  for (let i = 0; i < 32; i++) b.push(Math.floor((hi >>> 0) / 2 ** i) % 2);
  return b;
}
function bitsOf(n: number): Bits {
  const b: Bits = [];
  let v = n;
  for (let i = 0; i < 64; i++) { b.push(v % 2); v = Math.floor(v / 2); }
  return b;
}
/** UInt(b<msb:lsb>). */
function F(b: Bits, msb: number, lsb: number): number {
  let v = 0;
  for (let i = msb; i >= lsb; i--) v = v * 2 + b[i]!;
  return v;
}
const B = (b: Bits, i: number): boolean => b[i] === 1;
function allAre(b: Bits, msb: number, lsb: number, v: number): boolean {
  for (let i = lsb; i <= msb; i++) if (b[i] !== v) return false;
  return true;
}

export interface RefFault {
  type: FaultType;
  level: number;
  stage: 1 | 2;
  s1ptw: boolean;
  ipa: number;
  write: boolean;
  fetch: boolean;
  statusCode: number;
}

export interface RefRead {
  pa: number;
  stage: 1 | 2;
  level: number;
  attrs: number;
}

/** A descriptor update (FEAT_HAFDBS): the swap asked for at `pa`, from `old*` to `new*`. */
export interface RefUpdate {
  pa: number;
  stage: 1 | 2;
  level: number;
  attrs: number;
  oldLo: number; oldHi: number;
  newLo: number; newHi: number;
}

export interface RefOutcome {
  fault: RefFault | null;
  updates: RefUpdate[];
  pa: number;
  ipa: number;
  attrs: number;
  perms: number;
  s1Attrs: number;
  s2Attrs: number;
  s1Level: number;
  s1BlockBytes: number;
  s2Level: number;
  s2BlockBytes: number;
  pageBytes: number;
  global: boolean;
  asid: number;
  vmid: number;
  s1Contiguous: boolean;
  s2Contiguous: boolean;
  reads: RefRead[];
}

class Stop {
  constructor(readonly f: RefFault) {}
}
/** A swap found the descriptor changed: translate again from the start. */
class Restart {}

/** Bits `d` with bit `i` set to `v`, as halves. */
function withBit(d: Bits, i: number, v: number): Bits {
  const c = d.slice();
  c[i] = v;
  return c;
}
function halves(d: Bits): { lo: number; hi: number } {
  return { lo: F(d, 31, 0), hi: F(d, 63, 32) };
}

interface Granule { bits: number; stride: number }

function granuleFrom(name: '4K' | '16K' | '64K' | null, f: MmuFeatures): Granule {
  const g = name !== null && f.granules.includes(name) ? name : f.reservedGranule;
  const bits = g === '4K' ? 12 : g === '16K' ? 14 : 16;
  return { bits, stride: bits - 3 };
}

/** Output address size: PS decoded, then limited by what is implemented and by the granule. */
function oaSize(ps: number, g: Granule, f: MmuFeatures): number {
  const table = [32, 36, 40, 42, 44, 48, 52];
  let n = ps <= 6 ? table[ps]! : 52;
  if (n === 52 && !f.featLPA) n = 48;
  if (n > f.paBits) n = f.paBits;
  if (g.bits !== 16 && n > 48) n = 48;
  return n;
}

/** The output address field of a descriptor: desc<47:lsb> (and desc<15:12> as OA<51:48> for 64KB). */
function descOA(d: Bits, g: Granule, lsb: number): number {
  let a = F(d, 47, lsb) * 2 ** lsb;
  if (g.bits === 16) a += F(d, 15, 12) * 2 ** 48;
  return a;
}

/** log2 of the entries the Contiguous bit spans (Arm ARM D8.6.1): 4KB 16; 16KB 128 at L3, 32 at L2; 64KB 32. */
function contigBits(g: Granule, level: number): number {
  if (g.bits === 12) return level >= 1 ? 4 : 0;
  if (g.bits === 14) return level === 3 ? 7 : level === 2 ? 5 : 0;
  return level >= 2 ? 5 : 0;
}

function blockAllowed(g: Granule, level: number, f: MmuFeatures): boolean {
  if (g.bits === 12) return level === 1 || level === 2;
  if (g.bits === 14) return level === 2;
  return level === 2 || (level === 1 && f.paBits === 52);
}

/**
 * Translates `va` for `access` at `el` in the regime described by `regs`, reading descriptors
 * with `read(pa)` and updating them (FEAT_HAFDBS) with `swap(pa, old, new)`, an atomic
 * compare-and-swap that returns what memory held. Without `swap`, a needed update throws.
 */
export function translateReference(
  regs: RegimeRegisters, f: MmuFeatures, opts: AttrOptions,
  va: { hi: number; lo: number }, access: AccessType, el: 0 | 1,
  read: (pa: number) => { lo: number; hi: number },
  swap?: (pa: number, old: { lo: number; hi: number }, now: { lo: number; hi: number }) => { lo: number; hi: number },
): RefOutcome {
  const out: RefOutcome = {
    fault: null, updates: [], pa: 0, ipa: 0, attrs: 0, perms: 0, s1Attrs: 0, s2Attrs: 0,
    s1Level: -1, s1BlockBytes: 0, s2Level: -1, s2BlockBytes: 0, pageBytes: 0,
    global: true, asid: 0, vmid: 0, s1Contiguous: false, s2Contiguous: false, reads: [],
  };
  const isFetch = access === AccessType.Fetch;
  const isWrite = access === AccessType.Write;
  /** An access that writes (a store or an atomic): what records the dirty state. */
  const writes = access === AccessType.Write || access === AccessType.ReadWrite;
  const tcr = bits64(regs.tcrLo, regs.tcrHi);
  const sctlr = bits64(regs.sctlr, 0);
  const hcr = bits64(regs.hcrLo, regs.hcrHi);
  const vtcr = bits64(regs.vtcrLo, regs.vtcrHi);
  const vttbr = bits64(regs.vttbrLo, regs.vttbrHi);
  const mair = bits64(regs.mairLo, regs.mairHi);
  const el2 = regs.el2Enabled;
  if (el2 && B(hcr, 27)) throw new Error('translateReference: TGE=1 not modelled');
  const H = (i: number): boolean => el2 && B(hcr, i);
  const ctx: AttrContext = {
    access: AccessKind.Data, el2Enabled: el2,
    hcrVM: H(0), hcrDC: H(12), hcrDCT: H(57), hcrFWB: H(46), hcrCD: H(32), hcrID: H(33), hcrPTW: H(2),
    sctlrM: B(sctlr, 0), sctlrC: B(sctlr, 2), sctlrI: B(sctlr, 12), s1: 0, s2: 0,
  };
  const s1on = B(sctlr, 0) && !(el2 && H(12));
  const s2on = el2 && (H(0) || H(12));
  if (el2) out.vmid = f.featVMID16 && B(vtcr, 19) ? F(vttbr, 63, 48) : F(vttbr, 55, 48);

  const maxTx = (g: Granule): number => (f.featTTST ? (g.bits === 16 ? 47 : 48) : 39);
  // AArch64.S1TxSZFaults / S2TxSZFaults: below the minimum must fault with FEAT_LVA (stage 1)
  // or FEAT_LPA (stage 2), otherwise IMPLEMENTATION DEFINED; then TxSZ is clamped.
  const fixTx = (tx: number, min: number, max: number, lowMustFault: boolean): { tx: number; bad: boolean } => {
    if (tx < min) return { tx: min, bad: lowMustFault || f.txszBelowMin === 'fault' };
    if (tx > max) return { tx: max, bad: f.txszAboveMax === 'fault' };
    return { tx, bad: false };
  };

  // ---------------------------------------------------------------- stage 2 (an IPA to a PA)
  const s2g = granuleFrom(((): '4K' | '16K' | '64K' | null => {
    const tg = F(vtcr, 15, 14);
    return tg === 0 ? '4K' : tg === 1 ? '64K' : tg === 2 ? '16K' : null;
  })(), f);
  const s2tx = fixTx(F(vtcr, 5, 0), 64 - (s2g.bits === 16 ? f.paBits : Math.min(48, f.paBits)), maxTx(s2g), f.featLPA);
  const s2ia = 64 - s2tx.tx;
  const s2oa = oaSize(F(vtcr, 18, 16), s2g, f);
  const sl0 = F(vtcr, 7, 6);
  // SL0 tables (Arm ARM D8.2 "VTCR_EL2.SL0"): for 4KB 0 -> level 2, 1 -> 1, 2 -> 0, 3 -> 3 (TTST);
  // for 16KB/64KB 0 -> 3, 1 -> 2, 2 -> 1; level 0 for 4KB needs PAMax >= 44, level 1 for 16KB
  // PAMax >= 42, for 64KB >= 44.
  let s2start: number | null;
  if (s2g.bits === 12) s2start = [2, 1, 0, f.featTTST ? 3 : null][sl0]!;
  else s2start = [3, 2, 1, null][sl0]!;
  if (s2start !== null && sl0 === 2 && f.paBits < (s2g.bits === 14 ? 42 : 44)) s2start = null;
  let s2ok = !s2tx.bad && s2start !== null;
  let s2topBits = 0; // input bits resolved by the start level
  if (s2ok) {
    s2topBits = s2ia - (s2g.bits + (3 - s2start!) * s2g.stride);
    if (s2topBits < 1 || s2topBits > s2g.stride + 4) s2ok = false; // S2InconsistentSL
  }
  const s2base = (): { base: number; bad: boolean } => {
    const size = 2 ** (s2topBits + 3);
    const align = Math.max(s2oa === 52 ? 64 : 8, size);
    let base = Math.floor(F(vttbr, 47, 0) / align) * align;
    if (s2oa === 52) base += F(vttbr, 5, 2) * 2 ** 48;
    return { base, bad: s2oa < 48 && !allAre(vttbr, 47, s2oa, 0) };
  };
  const s2walkAttrs = s2TableWalkAttrs(F(vtcr, 9, 8), F(vtcr, 11, 10), F(vtcr, 13, 12), ctx.hcrCD, opts);
  // TCR_EL1.HA [39] / HD [40], VTCR_EL2.HA [21] / HD [22]: HD only with HA; both need the feature.
  const s1ha = f.hafdbs >= 1 && B(tcr, 39), s1hd = f.hafdbs >= 2 && s1ha && B(tcr, 40);
  const s2ha = f.hafdbs >= 1 && B(vtcr, 21), s2hd = f.hafdbs >= 2 && s2ha && B(vtcr, 22);

  interface S2Leaf { pa: number; level: number; bytes: number; desc: Bits; descPa: number; r: boolean; w: boolean; x1: boolean; x0: boolean; attrs: number }

  /** `hwWrite`: a stage-2 fault on a stage-1 table's page met by a descriptor update (WnR=1). */
  const s2stop = (type: FaultType, level: number, ipa: number, ptw: boolean, write: boolean, hwWrite = false): never => {
    throw new Stop({ type, level, stage: 2, s1ptw: ptw, ipa, write: ptw ? hwWrite : write, fetch: isFetch, statusCode: faultStatusCode(type, level) });
  };

  /** AArch64.MemSwapTableDesc: writes `now` over `old` at `pa` if memory still holds `old`, else repeats the translation. */
  const update = (pa: number, stage: 1 | 2, level: number, attrs: number, old: Bits, now: Bits): void => {
    if (swap === undefined) throw new Error('translateReference: a descriptor update is needed and no swap callback was given');
    const o = halves(old), n = halves(now);
    out.updates.push({ pa, stage, level, attrs, oldLo: o.lo, oldHi: o.hi, newLo: n.lo, newHi: n.hi });
    const got = swap(pa, o, n);
    if ((got.lo >>> 0) !== o.lo || (got.hi >>> 0) !== o.hi) throw new Restart();
  };

  /** AArch64.S2Walk, recursively. */
  const s2lookup = (ipa: number, ipaBits: Bits, level: number, table: number, ptw: boolean): S2Leaf => {
    const lsb = s2g.bits + (3 - level) * s2g.stride;
    const msb = level === s2start ? s2ia - 1 : lsb + s2g.stride - 1;
    const descPa = table + F(ipaBits, msb, lsb) * 8;
    out.reads.push({ pa: descPa, stage: 2, level, attrs: s2walkAttrs });
    const raw = read(descPa);
    const d = bits64(raw.lo, raw.hi);
    if (!B(d, 0)) s2stop(FaultType.Translation, level, ipa, ptw, isWrite);
    const isTable = B(d, 1) && level < 3;
    if (!B(d, 1) && !blockAllowed(s2g, level, f)) s2stop(FaultType.Translation, level, ipa, ptw, isWrite);
    if (isTable) {
      const next = descOA(d, s2g, s2g.bits);
      if (next >= 2 ** s2oa) s2stop(FaultType.AddressSize, level, ipa, ptw, isWrite);
      return s2lookup(ipa, ipaBits, level + 1, next, ptw);
    }
    if (B(d, 52) && f.contiguousBitFault && lsb + contigBits(s2g, level) > s2ia) s2stop(FaultType.Translation, level, ipa, ptw, isWrite);
    const oa = descOA(d, s2g, lsb);
    if (oa >= 2 ** s2oa) s2stop(FaultType.AddressSize, level, ipa, ptw, isWrite);
    if (!B(d, 10) && !s2ha) s2stop(FaultType.AccessFlag, level, ipa, ptw, isWrite);
    const xn = f.featXNX ? F(d, 54, 53) : B(d, 54) ? 2 : 0;
    const fnxs = opts.featXS && B(d, 11);
    return {
      pa: oa + F(ipaBits, lsb - 1, 0), level, bytes: 2 ** lsb, desc: d, descPa,
      r: B(d, 6), w: B(d, 7),
      x1: xn === 0 || xn === 3, x0: xn === 0 || xn === 1,
      attrs: decodeS2MemAttr(F(d, 5, 2), F(d, 9, 8), ctx.hcrFWB, fnxs, opts),
    };
  };

  /** AArch64.S2Translate up to the permission checks. */
  const s2translate = (ipa: number, ptw: boolean): S2Leaf => {
    if (!s2ok) s2stop(FaultType.Translation, 0, ipa, ptw, isWrite);
    if (ipa >= 2 ** s2ia) s2stop(FaultType.Translation, 0, ipa, ptw, isWrite);
    const b = s2base();
    if (b.bad) s2stop(FaultType.AddressSize, 0, ipa, ptw, isWrite);
    return s2lookup(ipa, bitsOf(ipa), s2start!, b.base, ptw);
  };

  /**
   * A stage-2 Permission fault at leaf `l`: with afUpdateOnPermissionFault an AF=0 leaf is
   * updated first (AArch64.SettingAccessFlagPermitted, Unpredictable_AFUPDATE).
   */
  const s2perm = (l: S2Leaf, ipa: number, ptw: boolean, write: boolean): never => {
    if (!B(l.desc, 10) && f.afUpdateOnPermissionFault) update(l.descPa, 2, l.level, s2walkAttrs, l.desc, withBit(l.desc, 10, 1));
    return s2stop(FaultType.Permission, l.level, ipa, ptw, write);
  };

  const s2perms = (l: S2Leaf): number =>
    (l.r ? 1 | 8 : 0) | (l.w ? 2 | 16 : 0) | (l.x1 ? 4 : 0) | (l.x0 ? 32 : 0);

  /** Permission check at one stage: null when allowed, else the WnR to report. */
  const check = (r: boolean, w: boolean, x: boolean): boolean | null => {
    if (access === AccessType.Fetch) return x ? null : false;
    if (access === AccessType.Read) return r ? null : false;
    if (access === AccessType.Write) return w ? null : true;
    if (!r) return false;
    return w ? null : true;
  };

  try {
    // -------------------------------------------------------------- stage 1 (a VA to an IPA)
    const vab = bits64(va.lo, va.hi);
    const upper = B(vab, 55);
    const n = upper ? 1 : 0;
    const tbi = B(tcr, n === 0 ? 37 : 38) && !(isFetch && B(tcr, n === 0 ? 51 : 52));
    const top = tbi ? 55 : 63;
    let ipa: number;
    let s1p = 63;
    let s1Attrs = 0;
    let s1Level = -1;
    const s1stop = (type: FaultType, level: number, write: boolean): never => {
      throw new Stop({ type, level, stage: 1, s1ptw: false, ipa: -1, write, fetch: isFetch, statusCode: faultStatusCode(type, level) });
    };

    if (!s1on) {
      if (!allAre(vab, top, f.paBits, 0)) s1stop(FaultType.AddressSize, 0, isWrite);
      ipa = F(vab, f.paBits - 1, 0);
    } else {
      const tg = n === 0 ? F(tcr, 15, 14) : F(tcr, 31, 30);
      const g = granuleFrom(n === 0
        ? (tg === 0 ? '4K' : tg === 1 ? '64K' : tg === 2 ? '16K' : null)
        : (tg === 1 ? '16K' : tg === 2 ? '4K' : tg === 3 ? '64K' : null), f);
      const tx = fixTx(n === 0 ? F(tcr, 5, 0) : F(tcr, 21, 16), f.featLVA && g.bits === 16 ? 12 : 16, maxTx(g), f.featLVA);
      if (tx.bad) s1stop(FaultType.Translation, 0, isWrite);
      const ia = 64 - tx.tx;
      if (!allAre(vab, top, ia, upper ? 1 : 0)) s1stop(FaultType.Translation, 0, isWrite);
      if (B(tcr, n === 0 ? 7 : 23)) s1stop(FaultType.Translation, 0, isWrite);
      const oaBits = oaSize(F(tcr, 34, 32), g, f);
      // Start level: enough levels of `stride` bits above the page offset to cover the input.
      const levels = Math.ceil((ia - g.bits) / g.stride);
      const start = 4 - levels;
      const ttbr = n === 0 ? bits64(regs.ttbr0Lo, regs.ttbr0Hi) : bits64(regs.ttbr1Lo, regs.ttbr1Hi);
      if (oaBits < 48 && !allAre(ttbr, 47, oaBits, 0)) s1stop(FaultType.AddressSize, 0, isWrite);
      const topBits = ia - (g.bits + (3 - start) * g.stride);
      const align = Math.max(oaBits === 52 ? 64 : 8, 2 ** (topBits + 3));
      let table = Math.floor(F(ttbr, 47, 0) / align) * align;
      if (oaBits === 52) table += F(ttbr, 5, 2) * 2 ** 48;
      const asidTtbr = B(tcr, 22) ? bits64(regs.ttbr1Lo, regs.ttbr1Hi) : bits64(regs.ttbr0Lo, regs.ttbr0Hi);
      out.asid = f.asid16 && B(tcr, 36) ? F(asidTtbr, 63, 48) : F(asidTtbr, 55, 48);
      const hpd = f.featHPDS && B(tcr, n === 0 ? 41 : 42);
      const walkS1 = decodeWalkAttrs(F(tcr, 9 + 16 * n, 8 + 16 * n), F(tcr, 11 + 16 * n, 10 + 16 * n), F(tcr, 13 + 16 * n, 12 + 16 * n), opts);

      /** The last stage-1 descriptor fetched: its IPA, PA, read attributes and the stage-2 leaf of its page. */
      let lastIpa = 0, lastPa = 0, lastAttrs = 0;
      let lastPage: S2Leaf | null = null;

      /** One stage-1 descriptor fetch: translate its IPA through stage 2 first when on. */
      const fetchS1 = (descIpa: number, level: number): Bits => {
        let pa = descIpa;
        let attrs: number;
        lastPage = null;
        if (s2on) {
          const l = s2translate(descIpa, true);
          if (!l.r) s2perm(l, descIpa, true, false);
          attrs = effectiveAttrs({ ...ctx, access: AccessKind.Walk, s1: walkS1, s2: l.attrs }, opts);
          if (attrs === ATTR_FAULT_S2_PERMISSION) s2perm(l, descIpa, true, false);
          if (!B(l.desc, 10)) { const nd = withBit(l.desc, 10, 1); update(l.descPa, 2, l.level, s2walkAttrs, l.desc, nd); l.desc = nd; }
          pa = l.pa;
          lastPage = l;
        } else {
          attrs = effectiveAttrs({ ...ctx, access: AccessKind.Walk, s1: walkS1, s2: 0 }, opts);
        }
        lastIpa = descIpa; lastPa = pa; lastAttrs = attrs;
        out.reads.push({ pa, stage: 1, level, attrs });
        const raw = read(pa);
        return bits64(raw.lo, raw.hi);
      };

      /**
       * Writes the stage-1 leaf just fetched (AArch64.CheckAndUpdateDescriptor): under stage 2 its
       * page is translated again as a write (hwupdatewalk), which may record that page's own dirty
       * state or fault with S1PTW and WnR=1.
       */
      const updateS1 = (level: number, old: Bits, now: Bits): void => {
        const page = lastPage as S2Leaf | null;
        if (page !== null && !page.w) {
          if (s2hd && B(page.desc, 51)) {
            const nd = withBit(page.desc, 7, 1);
            update(page.descPa, 2, page.level, s2walkAttrs, page.desc, nd);
            page.desc = nd; page.w = true;
          } else {
            s2stop(FaultType.Permission, page.level, lastIpa, true, false, true);
          }
        }
        update(lastPa, 1, level, lastAttrs, old, now);
      };

      interface Tbl { ap1: boolean; ap2: boolean; uxn: boolean; pxn: boolean }
      const vaIn = F(vab, ia - 1, 0);
      const vaBits = bitsOf(vaIn);

      const s1lookup = (level: number, tbl: number, acc: Tbl): { oa: number; level: number; lsb: number; d: Bits; acc: Tbl } => {
        const lsb = g.bits + (3 - level) * g.stride;
        const msb = level === start ? ia - 1 : lsb + g.stride - 1;
        const d = fetchS1(tbl + F(vaBits, msb, lsb) * 8, level);
        if (!B(d, 0)) s1stop(FaultType.Translation, level, isWrite);
        if (!B(d, 1) && (level === 3 || !blockAllowed(g, level, f))) s1stop(FaultType.Translation, level, isWrite);
        if (B(d, 1) && level < 3) {
          const next = descOA(d, g, g.bits);
          if (next >= 2 ** oaBits) s1stop(FaultType.AddressSize, level, isWrite);
          const a2 = hpd ? acc : { ap1: acc.ap1 || B(d, 61), ap2: acc.ap2 || B(d, 62), uxn: acc.uxn || B(d, 60), pxn: acc.pxn || B(d, 59) };
          return s1lookup(level + 1, next, a2);
        }
        if (B(d, 52) && f.contiguousBitFault && lsb + contigBits(g, level) > ia) s1stop(FaultType.Translation, level, isWrite);
        const oa = descOA(d, g, lsb);
        if (oa >= 2 ** oaBits) s1stop(FaultType.AddressSize, level, isWrite);
        if (!B(d, 10) && !s1ha) s1stop(FaultType.AccessFlag, level, isWrite);
        return { oa, level, lsb, d, acc };
      };

      const leaf = s1lookup(start, table, { ap1: false, ap2: false, uxn: false, pxn: false });
      const d = leaf.d;
      // With HD, a write through DBM=1 may go ahead: its permissions are those with AP[2] clear.
      const dirty1 = writes && s1hd && B(d, 51) && B(d, 7);
      /** A stage-1 Permission fault; with afUpdateOnPermissionFault an AF=0 leaf gets its AF first. */
      const s1perm = (write: boolean): never => {
        if (!B(d, 10) && f.afUpdateOnPermissionFault) updateS1(leaf.level, d, withBit(d, 10, 1));
        return s1stop(FaultType.Permission, leaf.level, write);
      };
      // AArch64.S1DirectBasePermissions: AP[2:1] = desc<7:6>.
      const ap2 = B(d, 7) && !dirty1, ap1 = B(d, 6);
      let pr = true, pw = !ap2, ur = ap1, uw = !ap2 && ap1;
      if (leaf.acc.ap1) { ur = false; uw = false; }
      if (leaf.acc.ap2) { pw = false; uw = false; }
      let ux = !(B(d, 54) || leaf.acc.uxn);
      let px = !(B(d, 53) || leaf.acc.pxn || uw);
      if (B(sctlr, 19)) { if (pw) px = false; if (uw) ux = false; }
      s1p = (pr ? 1 : 0) | (pw ? 2 : 0) | (px ? 4 : 0) | (ur ? 8 : 0) | (uw ? 16 : 0) | (ux ? 32 : 0);
      const denied = el === 0 ? check(ur, uw, ux) : check(pr, pw, px);
      if (denied !== null) s1perm(denied);
      s1Attrs = decodeMair(F(mair, 8 * F(d, 4, 2) + 7, 8 * F(d, 4, 2)), F(d, 9, 8), opts);
      if (isFetch && attrIsDevice(s1Attrs) && opts.instrFetchFromDevice === 'fault') s1perm(false);
      if (!B(d, 10) || dirty1) updateS1(leaf.level, d, withBit(withBit(d, 10, 1), 7, dirty1 ? 0 : d[7]!));
      ipa = leaf.oa + F(vaBits, leaf.lsb - 1, 0);
      s1Level = leaf.level;
      out.s1Level = leaf.level;
      out.s1BlockBytes = 2 ** leaf.lsb;
      out.global = !B(d, 11);
      out.s1Contiguous = B(d, 52);
      out.s1Attrs = s1Attrs;
    }
    void s1Level;
    out.ipa = ipa;

    const dataCtx = { ...ctx, access: isFetch ? AccessKind.Fetch : AccessKind.Data, s1: s1Attrs };
    if (!s2on) {
      out.pa = ipa;
      out.attrs = effectiveAttrs({ ...dataCtx, s2: 0 }, opts);
      out.perms = s1p;
      out.pageBytes = out.s1BlockBytes;
      return out;
    }
    const l = s2translate(ipa, false);
    const el0 = el === 0;
    // With VTCR_EL2.HD, a write through DBM=1 may go ahead and sets S2AP[1].
    const dirty2 = writes && s2hd && B(l.desc, 51) && !B(l.desc, 7);
    const denied = check(l.r, l.w || dirty2, el0 ? l.x0 : l.x1);
    if (denied !== null) s2perm(l, ipa, false, denied);
    const attrs = effectiveAttrs({ ...dataCtx, s2: l.attrs }, opts);
    if (attrs === ATTR_FAULT_S2_PERMISSION) s2perm(l, ipa, false, false);
    if (attrs === ATTR_FAULT_S1_PERMISSION) throw new Error('unreachable: stage-1 Device fetch is checked at stage 1');
    if (!B(l.desc, 10) || dirty2) {
      update(l.descPa, 2, l.level, s2walkAttrs, l.desc, withBit(withBit(l.desc, 10, 1), 7, dirty2 ? 1 : l.desc[7]!));
      if (dirty2) l.w = true;
    }
    out.pa = l.pa;
    out.attrs = attrs;
    out.perms = s1p & s2perms(l);
    out.s2Level = l.level;
    out.s2BlockBytes = l.bytes;
    out.s2Contiguous = B(l.desc, 52);
    out.s2Attrs = l.attrs;
    out.pageBytes = out.s1BlockBytes === 0 ? l.bytes : Math.min(out.s1BlockBytes, l.bytes);
    return out;
  } catch (e) {
    if (e instanceof Stop) {
      out.fault = e.f;
      return out;
    }
    if (e instanceof Restart) {
      // The descriptor changed under the walk: the whole translation again, its reads and updates after these.
      const again = translateReference(regs, f, opts, va, access, el, read, swap);
      again.reads = [...out.reads, ...again.reads];
      again.updates = [...out.updates, ...again.updates];
      return again;
    }
    throw e;
  }
}
