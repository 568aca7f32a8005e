/**
 * One memory-attribute question answered from raw encodings: the register bits, the MAIR byte or
 * TCR walk fields, and the stage-2 descriptor fields of one access, as `armsim attrs` takes them
 * (src/cli/attrs.ts). The answer is the final attributes (or the fault), which stages ran, the
 * reserved or CONSTRAINED UNPREDICTABLE inputs met (`attrReasons`), and whether the answer is one
 * of several the architecture allows.
 *
 * Contract: cold path (it validates, allocates, and evaluates alternatives); the hot decoders in
 * attrs.ts are used unchanged. Input is checked with zod: unknown keys and bad values are
 * `UserError`s naming the field and what is accepted.
 */
import { z } from 'zod';
import { UserError, resolveConfig } from '../sim/index.js';
import {
  ATTR_FAULT_S1_PERMISSION, ATTR_FAULT_S2_PERMISSION, ATTR_NOTAGACCESS, ATTR_NORMAL, ATTR_NXS, ATTR_TAGGED, AccessKind, Cacheability,
  LEVEL_CACHE_MASK, LEVEL_RA, LEVEL_TRANSIENT, LEVEL_WA, REASON_NAMES, Reason, attrDeviceKind, attrReasons,
  attrShare, decodeMair, decodeS2MemAttr, decodeWalkAttrs, effectiveAttrs, mairIsReserved, resolveAttrOptions, stage1Enabled,
  stage2Enabled, ATTR_INNER_SHIFT, ATTR_OUTER_SHIFT, type AttrContext, type AttrOptions,
} from './attrs.js';

const bit = z.literal([0, 1]);
const two = z.int().min(0).max(3);

/** The input of `armsim attrs` / `attrsQuery`; every field optional, defaults as documented there. */
export const AttrsQuerySchema = z.strictObject({
  acc: z.enum(['data', 'ifetch', 'ttw']).default('data'),
  el2: z.boolean().default(true),
  hcr: z.strictObject({
    vm: bit.default(1), dc: bit.default(0), dct: bit.default(0), fwb: bit.default(0),
    cd: bit.default(0), id: bit.default(0), ptw: bit.default(0),
  }).prefault({}),
  sctlr: z.strictObject({ m: bit.default(1), c: bit.default(1), i: bit.default(1) }).prefault({}),
  s1: z.strictObject({ mair: z.int().min(0).max(255).default(255), sh: two.default(3) }).prefault({}),
  tcr: z.strictObject({ irgn: two.default(1), orgn: two.default(1), sh: two.default(3) }).prefault({}),
  s2: z.strictObject({ memattr: z.int().min(0).max(15).default(15), sh: two.default(3), fnxs: bit.default(0) }).prefault({}),
  feat: z.strictObject({ xs: z.boolean().default(true), mte2: z.boolean().default(true), mte_perm: z.boolean().default(false) }).prefault({}),
  impdef: z.strictObject({ s1_effective_sh: z.boolean().default(false) }).prefault({}),
});

/** What callers may pass: any subset of the fields. */
export type AttrsQueryInput = z.input<typeof AttrsQuerySchema>;
/** The input with every default filled in. */
export type AttrsQueryRequest = z.output<typeof AttrsQuerySchema>;

export interface AttrsQueryLevel {
  cache: 'NC' | 'WT' | 'WB';
  ra: boolean;
  wa: boolean;
  transient: boolean;
}

export interface AttrsQueryAttrs {
  type: 'Device' | 'Normal';
  device: 'nGnRnE' | 'nGnRE' | 'nGRE' | 'GRE' | null;
  inner: AttrsQueryLevel | null;
  outer: AttrsQueryLevel | null;
  sh: 'NSH' | 'ISH' | 'OSH';
  tagged: boolean;
  xs: 0 | 1;
  /** FEAT_MTE_PERM: tag accesses and tag-checked accesses to this memory take a stage-2 Permission fault (`ATTR_NOTAGACCESS`). */
  notagaccess: boolean;
  /** The result as a MAIR-format byte (`attrsToMair`). */
  attr8: number;
}

export interface AttrsQueryResult {
  status: 'ok' | 'fault' | 'unpredictable';
  attrs: AttrsQueryAttrs | null;
  fault: { fault: 'permission'; stage: 1 | 2 } | null;
  reasons: string[];
  stages: { s1: 'enabled' | 'disabled'; s2: 'enabled' | 'disabled' };
}

/** The status and reason rules, for the command's --help and the docs. */
export const ATTRS_QUERY_RULES = `reasons: every reserved or CONSTRAINED UNPREDICTABLE input the access actually meets
  (an input counts only where the translation reads it: MAIR/SH with stage 1 on, TCR for ttw,
  stage-2 fields with stage 2 on):
    RESMAIR          reserved MAIR byte (resolved as 0x00, Device-nGnRnE)
    SH_RESERVED_S1   stage-1 descriptor SH (or TCR SH for ttw) = 0b01 (resolved as OSH)
    SH_RESERVED_S2   stage-2 descriptor SH = 0b01 (resolved as OSH)
    S2RESMEMATTR     FWB=0 MemAttr 0b0100 (without mte_perm), 0b1000, 0b1100 (inner resolved as NC)
    S2FWB_RESERVED   FWB=1 MemAttr[2:0] = 0b100 (resolved as the ASL's 0b101 branch)
    S2FWB_RES0       FWB=1 MemAttr[3] set where RES0 (ignored, as the ASL does)
    INSTRDEVICE_S1   ifetch from stage-1 Device (resolved as Normal NC, not a fault)
    INSTRDEVICE_S2   ifetch from stage-2 Device (resolved as Normal NC, not a fault)
    S1CTAGGED        data to stage-1 Tagged memory with sctlr.c=0 (resolved as Untagged)
status: "unpredictable" when some reason was met and the printed result is one of several
  the architecture allows: the query is re-evaluated under every other permitted resolution of
  the reasons met, and any difference (attributes, tags, XS, shareability, or fault vs. no fault)
  makes it "unpredictable". A reason whose resolution cannot change this access's result (for
  example a reserved stage-2 SH when the result is Device, hence OSH) leaves status "ok" (or
  "fault"). Otherwise "fault" for a Permission fault (ttw to stage-2 Device with hcr.ptw=1) and
  "ok" for attributes. INSTRDEVICE_* therefore always gives "unpredictable" (NC or a fault).
attr8: the MAIR byte that decodes to the result: 0b0000dd00 Device (0b0000dd01 when XS=0), 0xF0
  Tagged, 0x40 / 0xA0 the XS=0 forms, otherwise outer and inner nibbles; the xs field is
  authoritative where no MAIR byte carries that XS.
notagaccess (feat.mte_perm): a Tagged stage 1 over a NoTagAccess stage 2 (FWB=0 MemAttr 0b0100,
  FWB=1 0b1110/0b1111), data accesses: the memory stays as shown (tagged may be true), and tag
  accesses and tag-checked accesses take a stage-2 Permission fault; other accesses do not.`;

/**
 * Validates `raw` (unknown keys and bad values are `UserError`s that start with `where`) and fills
 * in the defaults.
 */
export function parseAttrsQuery(raw: unknown, where = 'attrs'): AttrsQueryRequest {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new UserError(`${where}: expected a JSON object such as {"s1":{"mair":255}} (got ${raw === null ? 'null' : Array.isArray(raw) ? 'a list' : JSON.stringify(raw)})`);
  }
  return resolveConfig(AttrsQuerySchema, raw, { root: where });
}

const ACCESS = { data: AccessKind.Data, ifetch: AccessKind.Fetch, ttw: AccessKind.Walk } as const;

function optionsOf(req: AttrsQueryRequest, where: string): AttrOptions {
  if (req.feat.mte_perm && !req.feat.mte2) {
    throw new UserError(`${where}: feat.mte_perm: FEAT_MTE_PERM needs FEAT_MTE2; set feat.mte2 to true or feat.mte_perm to false`);
  }
  return resolveAttrOptions({
    featXS: req.feat.xs, featMTE2: req.feat.mte2, featMTEPerm: req.feat.mte_perm,
    effectiveShareabilityAtS1: req.impdef.s1_effective_sh,
  });
}

function contextOf(req: AttrsQueryRequest, opts: AttrOptions): AttrContext {
  return {
    access: ACCESS[req.acc], el2Enabled: req.el2,
    hcrVM: req.hcr.vm === 1, hcrDC: req.hcr.dc === 1, hcrDCT: req.hcr.dct === 1, hcrFWB: req.hcr.fwb === 1,
    hcrCD: req.hcr.cd === 1, hcrID: req.hcr.id === 1, hcrPTW: req.hcr.ptw === 1,
    sctlrM: req.sctlr.m === 1, sctlrC: req.sctlr.c === 1, sctlrI: req.sctlr.i === 1,
    s1: req.acc === 'ttw' ? decodeWalkAttrs(req.tcr.irgn, req.tcr.orgn, req.tcr.sh, opts) : decodeMair(req.s1.mair, req.s1.sh, opts),
    s2: decodeS2MemAttr(req.s2.memattr, req.s2.sh, req.hcr.fwb === 1, req.s2.fnxs === 1, opts),
  };
}

const evaluate = (req: AttrsQueryRequest, opts: AttrOptions): number => effectiveAttrs(contextOf(req, opts), opts);

/** The alternative values of each option a reason's resolution depends on (the default included). */
function alternatives(reasons: number, opts: AttrOptions): Partial<Record<keyof AttrOptions, readonly unknown[]>> {
  const alt: Partial<Record<keyof AttrOptions, readonly unknown[]>> = {};
  if (reasons & Reason.RESMAIR) {
    const bytes: number[] = [];
    for (let b = 0; b < 256; b++) if (!mairIsReserved(b, opts)) bytes.push(b);
    alt.reservedMair = bytes;
    // a replacement byte may itself be Device (INSTRDEVICE) or Tagged (S1CTAGGED)
    alt.instrFetchFromDevice = ['nc', 'fault'];
    alt.s1CacheOffTags = ['untagged', 'keep'];
  }
  if (reasons & (Reason.SH_RESERVED_S1 | Reason.SH_RESERVED_S2)) alt.reservedShareability = ['OSH', 'ISH', 'NSH'];
  if (reasons & Reason.S2RESMEMATTR) alt.s2ReservedCacheability = ['NC', 'WT', 'WB'];
  if (reasons & Reason.S2FWB_RESERVED) alt.fwbReserved = ['as-101', 'as-111', 'device-nGnRnE'];
  if (reasons & (Reason.INSTRDEVICE_S1 | Reason.INSTRDEVICE_S2)) alt.instrFetchFromDevice = ['nc', 'fault'];
  if (reasons & Reason.S1CTAGGED) alt.s1CacheOffTags = ['untagged', 'keep'];
  return alt;
}

/** True when some permitted resolution of the reasons met gives a different result. */
function isUnpredictable(req: AttrsQueryRequest, opts: AttrOptions, reasons: number, result: number): boolean {
  const alt = alternatives(reasons, opts);
  const keys = Object.keys(alt) as (keyof AttrOptions)[];
  if (keys.length === 0) return false;
  const choice: Record<string, unknown> = { ...opts };
  const walk = (k: number): boolean => {
    if (k === keys.length) return evaluate(req, choice as unknown as AttrOptions) !== result;
    for (const v of alt[keys[k]!]!) {
      choice[keys[k]!] = v;
      if (walk(k + 1)) return true;
    }
    return false;
  };
  return walk(0);
}

/**
 * The MAIR byte that `S1DecodeMemAttrs` decodes to the attributes of `a` (a final word): Device
 * 0b0000dd00, or 0b0000dd01 for XS=0; 0xF0 for Allocation Tagged; 0x40 (NC, XS=0) and 0xA0
 * (WT-RA, XS=0); otherwise the outer and inner `DecodeLDFAttr` nibbles, whose decode gives XS=0
 * exactly for iWB oWB.
 */
export function attrsToMair(a: number): number {
  const xs0 = (a & ATTR_NXS) !== 0;
  if ((a & ATTR_NORMAL) === 0) return (attrDeviceKind(a) << 2) | (xs0 ? 1 : 0);
  if ((a & ATTR_TAGGED) !== 0) return 0xf0;
  const inner = nibble((a >>> ATTR_INNER_SHIFT) & 0x1f), outer = nibble((a >>> ATTR_OUTER_SHIFT) & 0x1f);
  if (xs0 && inner === 0b0100 && outer === 0b0100) return 0x40;
  if (xs0 && inner === 0b1010 && outer === 0b1010) return 0xa0;
  return (outer << 4) | inner;
}

/** `DecodeLDFAttr` inverted: 0b0100 NC; WT 0b00RW transient / 0b10RW; WB 0b01RW transient / 0b11RW. */
function nibble(level: number): number {
  const c = level & LEVEL_CACHE_MASK;
  if (c === Cacheability.NC || c === Cacheability.None) return 0b0100;
  const rw = ((level & LEVEL_RA) !== 0 ? 0b10 : 0) | ((level & LEVEL_WA) !== 0 ? 0b01 : 0);
  const nonTransient = (level & LEVEL_TRANSIENT) === 0 || rw === 0; // 0b0000 / 0b0100 are not transient forms
  return (nonTransient ? 0b1000 : 0) | (c === Cacheability.WB ? 0b0100 : 0) | rw;
}

const CACHE = [null, 'NC', 'WT', 'WB'] as const;
const DEVICE = ['nGnRnE', 'nGnRE', 'nGRE', 'GRE'] as const;
const SHARE = ['OSH', 'ISH', 'NSH'] as const;

function levelOf(level: number): AttrsQueryLevel {
  const cache = CACHE[level & LEVEL_CACHE_MASK] ?? 'NC';
  if (cache === 'NC') return { cache, ra: false, wa: false, transient: false };
  return { cache, ra: (level & LEVEL_RA) !== 0, wa: (level & LEVEL_WA) !== 0, transient: (level & LEVEL_TRANSIENT) !== 0 };
}

function attrsOf(a: number): AttrsQueryAttrs {
  const normal = (a & ATTR_NORMAL) !== 0;
  return {
    type: normal ? 'Normal' : 'Device',
    device: normal ? null : DEVICE[attrDeviceKind(a)]!,
    inner: normal ? levelOf(a >>> ATTR_INNER_SHIFT) : null,
    outer: normal ? levelOf(a >>> ATTR_OUTER_SHIFT) : null,
    sh: SHARE[attrShare(a)] ?? 'OSH',
    tagged: (a & ATTR_TAGGED) !== 0,
    xs: (a & ATTR_NXS) !== 0 ? 0 : 1,
    notagaccess: (a & ATTR_NOTAGACCESS) !== 0,
    attr8: attrsToMair(a),
  };
}

/**
 * The final memory attributes of one access (`effectiveAttrs` under the default `AttrOptions`,
 * with the features and IMPLEMENTATION DEFINED choice the input names), or its Permission fault,
 * with the reasons and status of `ATTRS_QUERY_RULES`. `where` starts every error message.
 */
export function attrsQuery(input: AttrsQueryInput | AttrsQueryRequest = {}, where = 'attrs'): AttrsQueryResult {
  const req = parseAttrsQuery(input, where);
  const opts = optionsOf(req, where);
  const ctx = contextOf(req, opts);
  const s1 = stage1Enabled(ctx), s2 = stage2Enabled(ctx);
  if (req.acc === 'ttw' && !s1) {
    throw new UserError(`${where}: acc: 'ttw' is a stage-1 table walk, but stage 1 is disabled here (sctlr.m=0${req.el2 ? ' or hcr.dc=1' : ''}); enable it or use 'data'/'ifetch'`);
  }
  const word = effectiveAttrs(ctx, opts);
  const reasons = attrReasons(ctx, { mair: req.s1.mair, s1sh: req.s1.sh, tcrSh: req.tcr.sh, s2MemAttr: req.s2.memattr, s2sh: req.s2.sh }, opts);
  const isFault = word === ATTR_FAULT_S1_PERMISSION || word === ATTR_FAULT_S2_PERMISSION;
  const unpredictable = reasons !== 0 && isUnpredictable(req, opts, reasons, word);
  return {
    status: unpredictable ? 'unpredictable' : isFault ? 'fault' : 'ok',
    attrs: isFault ? null : attrsOf(word),
    fault: isFault ? { fault: 'permission', stage: word === ATTR_FAULT_S1_PERMISSION ? 1 : 2 } : null,
    reasons: REASON_NAMES.filter((name) => (reasons & Reason[name]) !== 0),
    stages: { s1: s1 ? 'enabled' : 'disabled', s2: s2 ? 'enabled' : 'disabled' },
  };
}
