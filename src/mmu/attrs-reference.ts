/**
 * A slow, plainly written transcription of the ASL memory-attribute functions, on objects and
 * strings, for differential tests of the packed implementation in attrs.ts. It starts from raw
 * encodings (MAIR byte, descriptor fields, register bits) and shares no code with attrs.ts except
 * the option type. Not exported from the block's index.
 *
 * Functions follow the ASL (rems-project/sail-arm arm-v9.4-a/src/v8_base.sail) one to one:
 * DecodeShareability, DecodeDevice, DecodeLDFAttr, DecodeSDFAttr, S1ConstrainUnpredictableRESMAIR,
 * S1DecodeMemAttrs, WalkMemAttrs, S2DecodeCacheability, S2DecodeMemAttrs, S2CombineS1Device,
 * S2CombineS1AttrHints, S2CombineS1Shareability, EffectiveShareability, S2MemTagType,
 * S2CombineS1MemAttrs, AArch64.S2ApplyFWBMemAttrs, AArch64.S1DisabledOutput, and the attribute
 * parts of AArch64.S1Translate / AArch64.S1Walk / AArch64.S2Translate / S*CheckPermissions.
 */
import type { AttrOptions, AttrsView, LevelAttrs } from './attrs.js';

type MemType = 'Device' | 'Normal';
type DeviceType = 'nGnRnE' | 'nGnRE' | 'nGRE' | 'GRE';
type MemAttr = 'NC' | 'WT' | 'WB';
type MemHint = 'No' | 'WA' | 'RA' | 'RWA';
type Share = 'NSH' | 'ISH' | 'OSH';

interface MemAttrHints { attrs: MemAttr; hints: MemHint; transient: boolean }
export interface RefMemAttrs {
  memtype: MemType;
  device: DeviceType;
  inner: MemAttrHints;
  outer: MemAttrHints;
  shareability: Share;
  tagged: boolean;
  xs: 0 | 1;
  /** Not in the ASL: set when a reserved encoding was resolved on the way. */
  reserved: boolean;
}

export interface RefRequest {
  access: 'data' | 'ifetch' | 'ttw';
  el2Enabled: boolean;
  hcr: { VM: boolean; DC: boolean; DCT: boolean; FWB: boolean; CD: boolean; ID: boolean; PTW: boolean };
  sctlr: { M: boolean; C: boolean; I: boolean };
  /** Stage-1 leaf: MAIR byte and SH (data/ifetch). */
  mair: number;
  s1sh: number;
  /** Stage-1 walk: TCR IRGN/ORGN/SH (ttw). */
  tcr: { irgn: number; orgn: number; sh: number };
  /** Stage-2 leaf descriptor fields. */
  s2memattr: number;
  s2sh: number;
  s2fnxs: boolean;
}

export type RefResult = { fault: 'none'; attrs: RefMemAttrs } | { fault: 's1permission' | 's2permission' };

const bit = (v: number, n: number): number => (v >>> n) & 1;
const noHints = (attrs: MemAttr): MemAttrHints => ({ attrs, hints: 'No', transient: false });

function DecodeShareability(sh: number, opts: AttrOptions, note: { reserved: boolean }): Share {
  if (sh === 0b10) return 'OSH';
  if (sh === 0b11) return 'ISH';
  if (sh === 0b00) return 'NSH';
  note.reserved = true; // ConstrainUnpredictable(Unpredictable_Shareability)
  return opts.reservedShareability;
}

function DecodeDevice(dd: number): DeviceType {
  return (['nGnRnE', 'nGnRE', 'nGRE', 'GRE'] as const)[dd]!;
}

function DecodeLDFAttr(attr: number): MemAttrHints {
  let attrs: MemAttr;
  if (bit(attr, 2) === 0) attrs = 'WT';
  else if (attr === 0b0100) attrs = 'NC';
  else attrs = 'WB';
  if (attrs === 'NC') return noHints('NC');
  const hints: MemHint = (['No', 'WA', 'RA', 'RWA'] as const)[attr & 3]!;
  const transient = hints !== 'No' ? bit(attr, 3) === 0 : false;
  return { attrs, hints, transient };
}

function DecodeSDFAttr(rgn: number): MemAttrHints {
  switch (rgn) {
    case 0b00: return noHints('NC');
    case 0b01: return { attrs: 'WB', hints: 'RWA', transient: false };
    case 0b10: return { attrs: 'WT', hints: 'RA', transient: false };
    default: return { attrs: 'WB', hints: 'RA', transient: false };
  }
}

export function S1ConstrainUnpredictableRESMAIR(attr: number, opts: AttrOptions): boolean {
  const hi = attr >> 4, lo = attr & 15;
  if (hi === 0 && (lo & 3) === 0b01) return !opts.featXS;
  if (hi === 0) return (lo & 3) !== 0;
  if (attr === 0b01000000) return !opts.featXS;
  if (attr === 0b10100000) return !opts.featXS;
  if (attr === 0b11110000) return !opts.featMTE2;
  if (lo === 0) return true;
  return false;
}

function S1DecodeMemAttrs(attrIn: number, sh: number, opts: AttrOptions): RefMemAttrs {
  const note = { reserved: false };
  let attr = attrIn;
  if (S1ConstrainUnpredictableRESMAIR(attr, opts)) {
    attr = opts.reservedMair; // ConstrainUnpredictableBits(Unpredictable_RESMAIR)
    note.reserved = true;
  }
  const m: RefMemAttrs = {
    memtype: 'Normal', device: 'nGnRnE', inner: noHints('NC'), outer: noHints('NC'),
    shareability: 'NSH', tagged: false, xs: 1, reserved: false,
  };
  if (attr >> 4 === 0) {
    m.memtype = 'Device';
    m.device = DecodeDevice((attr >> 2) & 3);
    m.xs = bit(attr, 0) === 1 ? 0 : 1;
  } else if (attr === 0x40) {
    m.inner = noHints('NC'); m.outer = noHints('NC'); m.xs = 0;
  } else if (attr === 0xa0) {
    m.inner = { attrs: 'WT', hints: 'RA', transient: false };
    m.outer = { attrs: 'WT', hints: 'RA', transient: false };
    m.xs = 0;
  } else if (attr === 0xf0) {
    m.inner = { attrs: 'WB', hints: 'RWA', transient: false };
    m.outer = { attrs: 'WB', hints: 'RWA', transient: false };
    m.xs = 0;
  } else {
    m.outer = DecodeLDFAttr(attr >> 4);
    m.inner = DecodeLDFAttr(attr & 15);
    m.xs = m.inner.attrs === 'WB' && m.outer.attrs === 'WB' ? 0 : 1;
  }
  m.tagged = attr === 0xf0;
  m.shareability = DecodeShareability(sh, opts, note);
  m.reserved = note.reserved;
  return m;
}

function WalkMemAttrs(sh: number, irgn: number, orgn: number, opts: AttrOptions): RefMemAttrs {
  const note = { reserved: false };
  const inner = DecodeSDFAttr(irgn), outer = DecodeSDFAttr(orgn);
  return {
    memtype: 'Normal', device: 'nGnRnE', inner, outer,
    shareability: DecodeShareability(sh, opts, note),
    tagged: false,
    xs: inner.attrs === 'WB' && outer.attrs === 'WB' ? 0 : 1,
    reserved: note.reserved,
  };
}

function S2DecodeCacheability(attr: number, opts: AttrOptions, note: { reserved: boolean }): MemAttrHints {
  if (attr === 0b01) return noHints('NC');
  if (attr === 0b10) return noHints('WT');
  if (attr === 0b11) return noHints('WB');
  note.reserved = true; // ConstrainUnpredictable(Unpredictable_S2RESMEMATTR)
  return noHints(opts.s2ReservedCacheability);
}

function S2DecodeMemAttrs(attr: number, sh: number, opts: AttrOptions): RefMemAttrs {
  const note = { reserved: false };
  const m: RefMemAttrs = {
    memtype: 'Normal', device: 'nGnRnE', inner: noHints('NC'), outer: noHints('NC'),
    shareability: 'NSH', tagged: false, xs: 1, reserved: false,
  };
  if (attr >> 2 === 0) {
    m.memtype = 'Device';
    m.device = DecodeDevice(attr & 3);
  } else {
    m.outer = S2DecodeCacheability(attr >> 2, opts, note);
    m.inner = S2DecodeCacheability(attr & 3, opts, note);
  }
  m.shareability = DecodeShareability(sh, opts, note);
  m.reserved = note.reserved;
  return m;
}

const DEVICE_ORDER: readonly DeviceType[] = ['nGnRnE', 'nGnRE', 'nGRE', 'GRE'];

function S2CombineS1Device(d1: DeviceType, d2: DeviceType): DeviceType {
  for (const d of DEVICE_ORDER) if (d1 === d || d2 === d) return d;
  return 'GRE';
}

function S2CombineS1AttrHints(s1: MemAttrHints, s2: MemAttrHints): MemAttrHints {
  let attrs: MemAttr;
  if (s1.attrs === 'NC' || s2.attrs === 'NC') attrs = 'NC';
  else if (s1.attrs === 'WT' || s2.attrs === 'WT') attrs = 'WT';
  else attrs = 'WB';
  if (attrs === 'NC') return noHints('NC');
  return { attrs, hints: s1.hints, transient: s1.transient };
}

function S2CombineS1Shareability(a: Share, b: Share): Share {
  if (a === 'OSH' || b === 'OSH') return 'OSH';
  if (a === 'ISH' || b === 'ISH') return 'ISH';
  return 'NSH';
}

function EffectiveShareability(m: RefMemAttrs): Share {
  if (m.memtype === 'Device' || (m.inner.attrs === 'NC' && m.outer.attrs === 'NC')) return 'OSH';
  return m.shareability;
}

function S2MemTagType(m: RefMemAttrs, s1Tagged: boolean, opts: AttrOptions): boolean {
  if (!opts.featMTE2) return false;
  return s1Tagged && m.memtype === 'Normal'
    && m.inner.attrs === 'WB' && m.inner.hints === 'RWA' && !m.inner.transient
    && m.outer.attrs === 'WB' && m.outer.hints === 'RWA' && !m.outer.transient;
}

function copy(m: RefMemAttrs): RefMemAttrs {
  return { ...m, inner: { ...m.inner }, outer: { ...m.outer } };
}

export function S2CombineS1MemAttrs(s1: RefMemAttrs, s2: RefMemAttrs, opts: AttrOptions): RefMemAttrs {
  let m: RefMemAttrs;
  if (s1.memtype === 'Device' && s2.memtype === 'Device') {
    m = copy(s1);
    m.device = S2CombineS1Device(s1.device, s2.device);
  } else if (s1.memtype === 'Device') {
    m = copy(s1);
  } else if (s2.memtype === 'Device') {
    m = copy(s2);
  } else {
    m = copy(s1);
    m.inner = S2CombineS1AttrHints(s1.inner, s2.inner);
    m.outer = S2CombineS1AttrHints(s1.outer, s2.outer);
  }
  if (m.memtype === 'Device') { m.inner = noHints('NC'); m.outer = noHints('NC'); }
  m.tagged = S2MemTagType(m, s1.tagged, opts);
  m.shareability = S2CombineS1Shareability(s1.shareability, s2.shareability);
  if (m.memtype === 'Normal' && m.inner.attrs === 'WB' && m.outer.attrs === 'WB') m.xs = 0;
  else m.xs = (s1.xs & s2.xs) as 0 | 1;
  m.shareability = EffectiveShareability(m);
  m.reserved = s1.reserved || s2.reserved;
  return m;
}

/** Takes the raw descriptor fields, as the ASL does. */
export function S2ApplyFWBMemAttrs(s1: RefMemAttrs, memattr: number, s2sh: number, fnxs: boolean, opts: AttrOptions): RefMemAttrs {
  const note = { reserved: false };
  let s2attr = memattr & 0b111; // MemAttr[3] (descriptor bit 5) is RES0 and not looked at
  if (bit(memattr, 3)) note.reserved = true;
  if (s2attr === 0b100) {
    note.reserved = true;
    if (opts.fwbReserved === 'as-111') s2attr = 0b111;
    else if (opts.fwbReserved === 'device-nGnRnE') s2attr = 0b000;
    // 'as-101': the ASL's own else-branch, below
  }
  let m: RefMemAttrs = copy(s1);
  if (bit(s2attr, 2) === 0) {
    const s2dev = DecodeDevice(s2attr & 3);
    m.memtype = 'Device';
    m.device = s1.memtype === 'Device' ? S2CombineS1Device(s1.device, s2dev) : s2dev;
    m.inner = noHints('NC'); m.outer = noHints('NC');
    m.xs = s1.xs;
  } else if ((s2attr & 3) === 0b11) {
    m = copy(s1);
  } else if ((s2attr & 3) === 0b10) {
    m.memtype = 'Normal';
    m.device = 'nGnRnE';
    const keep = (l: MemAttrHints): MemAttrHints =>
      s1.memtype === 'Normal' && l.attrs !== 'NC' ? { attrs: 'WB', hints: l.hints, transient: l.transient } : { attrs: 'WB', hints: 'RWA', transient: false };
    m.inner = keep(s1.inner);
    m.outer = keep(s1.outer);
    m.xs = 0;
  } else {
    if (s1.memtype === 'Device') {
      m = copy(s1);
    } else {
      m.memtype = 'Normal';
      m.inner = noHints('NC'); m.outer = noHints('NC');
      m.xs = s1.xs;
    }
  }
  const s2share = DecodeShareability(s2sh, opts, note);
  m.shareability = S2CombineS1Shareability(s1.shareability, s2share);
  m.tagged = S2MemTagType(m, s1.tagged, opts);
  if (fnxs) m.xs = 0;
  m.shareability = EffectiveShareability(m);
  m.reserved = s1.reserved || note.reserved;
  return m;
}

function NormalNCMemAttr(): RefMemAttrs {
  return {
    memtype: 'Normal', device: 'nGnRnE', inner: noHints('NC'), outer: noHints('NC'),
    shareability: 'OSH', tagged: false, xs: 1, reserved: false,
  };
}

function S1DisabledOutput(req: RefRequest, opts: AttrOptions): RefMemAttrs {
  if (req.el2Enabled && req.hcr.DC) {
    return {
      memtype: 'Normal', device: 'nGnRnE',
      inner: { attrs: 'WB', hints: 'RWA', transient: false },
      outer: { attrs: 'WB', hints: 'RWA', transient: false },
      shareability: 'NSH', tagged: req.hcr.DCT && opts.featMTE2, xs: 0, reserved: false,
    };
  }
  if (req.access === 'ifetch') {
    const l: MemAttrHints = req.sctlr.I ? { attrs: 'WT', hints: 'RA', transient: false } : noHints('NC');
    return { memtype: 'Normal', device: 'nGnRnE', inner: l, outer: { ...l }, shareability: 'OSH', tagged: false, xs: 1, reserved: false };
  }
  return { memtype: 'Device', device: 'nGnRnE', inner: noHints('NC'), outer: noHints('NC'), shareability: 'OSH', tagged: false, xs: 1, reserved: false };
}

/** AArch64.FullTranslate for EL1&0, attributes and type-dependent permission faults only. */
export function refTranslate(req: RefRequest, opts: AttrOptions): RefResult {
  // AArch64.S1Enabled (TGE=0)
  const s1Enabled = (!req.el2Enabled || !req.hcr.DC) && req.sctlr.M;
  let ipa: RefMemAttrs;
  if (!s1Enabled) {
    if (req.access === 'ttw') throw new Error('no stage-1 walk with stage 1 disabled');
    ipa = S1DisabledOutput(req, opts);
  } else {
    const walkstate = req.access === 'ttw'
      ? WalkMemAttrs(req.tcr.sh, req.tcr.irgn, req.tcr.orgn, opts)
      : S1DecodeMemAttrs(req.mair, req.s1sh, opts);
    // S1CheckPermissions: Unpredictable_INSTRDEVICE
    if (req.access === 'ifetch' && walkstate.memtype === 'Device' && opts.instrFetchFromDevice === 'fault') {
      return { fault: 's1permission' };
    }
    let m: RefMemAttrs;
    if (req.access === 'ifetch' && (walkstate.memtype === 'Device' || !req.sctlr.I)) {
      m = NormalNCMemAttr();
      m.xs = walkstate.xs;
    } else if (req.access !== 'ifetch' && !req.sctlr.C && walkstate.memtype === 'Normal') {
      m = NormalNCMemAttr();
      m.xs = walkstate.xs;
      m.tagged = opts.s1CacheOffTags === 'keep' && walkstate.tagged; // Unpredictable_S1CTAGGED
    } else {
      m = copy(walkstate);
    }
    m.reserved = walkstate.reserved;
    if (req.el2Enabled && req.hcr.VM && !opts.effectiveShareabilityAtS1) m.shareability = walkstate.shareability;
    else { m.shareability = walkstate.shareability; m.shareability = EffectiveShareability(m); }
    ipa = m;
  }
  if (!req.el2Enabled) return { fault: 'none', attrs: ipa };
  // AArch64.S2Translate: walkparams.vm = VM OR DC
  if (!(req.hcr.VM || req.hcr.DC)) return { fault: 'none', attrs: ipa };
  let walk: RefMemAttrs;
  if (req.hcr.FWB) {
    walk = S2ApplyFWBMemAttrs(ipa, req.s2memattr, req.s2sh, req.s2fnxs, opts);
  } else {
    walk = S2DecodeMemAttrs(req.s2memattr, req.s2sh, opts);
    walk.xs = req.s2fnxs ? 0 : 1;
  }
  // AArch64.S2CheckPermissions
  if (req.access === 'ttw' && walk.memtype === 'Device' && req.hcr.PTW) return { fault: 's2permission' };
  if (req.access === 'ifetch' && walk.memtype === 'Device' && opts.instrFetchFromDevice === 'fault') return { fault: 's2permission' };
  let s2: RefMemAttrs;
  if ((req.access === 'ttw' && walk.memtype === 'Device' && !req.hcr.PTW)
    || (req.access === 'ifetch' && (walk.memtype === 'Device' || req.hcr.ID))
    || (req.access !== 'ifetch' && walk.memtype === 'Normal' && req.hcr.CD)) {
    s2 = NormalNCMemAttr();
    s2.xs = walk.xs;
    s2.reserved = walk.reserved;
  } else {
    s2 = walk;
  }
  const out = req.hcr.FWB ? s2 : S2CombineS1MemAttrs(ipa, s2, opts);
  return { fault: 'none', attrs: out };
}

/** Stage-1 × stage-2 only (no register controls): the combination as `combineS1S2` does it. */
export function refCombine(
  mair: number, s1sh: number, s2memattr: number, s2sh: number, fwb: boolean, fnxs: boolean, opts: AttrOptions,
): RefMemAttrs {
  const s1 = S1DecodeMemAttrs(mair, s1sh, opts);
  if (fwb) return S2ApplyFWBMemAttrs(s1, s2memattr, s2sh, fnxs, opts);
  const s2 = S2DecodeMemAttrs(s2memattr, s2sh, opts);
  s2.xs = fnxs ? 0 : 1;
  return S2CombineS1MemAttrs(s1, s2, opts);
}

/** Stage-1 decode alone, for the MAIR table tests. */
export function refDecodeMair(mair: number, sh: number, opts: AttrOptions): RefMemAttrs {
  return S1DecodeMemAttrs(mair, sh, opts);
}

function levelView(l: MemAttrHints): LevelAttrs {
  if (l.attrs === 'NC') return { cache: 'NC', readAllocate: false, writeAllocate: false, transient: false };
  return {
    cache: l.attrs,
    readAllocate: l.hints === 'RA' || l.hints === 'RWA',
    writeAllocate: l.hints === 'WA' || l.hints === 'RWA',
    transient: l.transient,
  };
}

/** The reference result in attrs.ts's readable form, for comparison with `unpackAttrs`. */
export function refToView(m: RefMemAttrs): AttrsView {
  const device = m.memtype === 'Device';
  return {
    memType: m.memtype,
    device: device ? m.device : null,
    inner: device ? null : levelView(m.inner),
    outer: device ? null : levelView(m.outer),
    shareability: m.shareability,
    tagged: m.tagged,
    xs: m.xs === 1,
    reserved: m.reserved,
    s2fwb: 'no',
  };
}
