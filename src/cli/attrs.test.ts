import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { attrsQuery, attrsToMair, type AttrsQueryInput, type AttrsQueryResult } from '../mmu/attrs-query.js';
import { DEFAULT_ATTR_OPTIONS, decodeMair, unpackAttrs, resolveAttrOptions } from '../mmu/attrs.js';
import { refTranslate, type RefRequest } from '../mmu/attrs-reference.js';
import { UserError } from '../sim/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/armsim.js', import.meta.url));

/** Runs the built command (`npm run build` first) with `input` on stdin. */
function armsim(args: readonly string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', input: input ?? '' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const WB_RWA = { cache: 'WB', ra: true, wa: true, transient: false };
const NC = { cache: 'NC', ra: false, wa: false, transient: false };

/** A compact string for table tests: 'Normal iWB-RWA oWB-RWA OSH', 'Device-nGnRE OSH', 'fault s2', plus flags. */
function short(r: AttrsQueryResult): string {
  if (r.attrs === null) return `fault s${r.fault!.stage}`;
  const a = r.attrs;
  const lvl = (p: string, l: NonNullable<typeof a.inner>): string =>
    `${p}${l.cache}${l.ra || l.wa ? `-${l.ra ? 'R' : ''}${l.wa ? 'W' : ''}A` : ''}${l.transient ? '-T' : ''}`;
  const base = a.type === 'Device' ? `Device-${a.device} ${a.sh}` : `Normal ${lvl('i', a.inner!)} ${lvl('o', a.outer!)} ${a.sh}`;
  return `${base}${a.tagged ? ' Tagged' : ''}${a.notagaccess ? ' NoTagAccess' : ''} XS=${a.xs} 0x${a.attr8.toString(16).padStart(2, '0')}`;
}
const q = (input: AttrsQueryInput): string => short(attrsQuery(input));

describe('attrsQuery: the two examples from the issue', () => {
  it('MMU off, DC=0, FWB=1, stage-2 MemAttr 0b0110: Normal WB RWA at both levels, OSH, attr8 0xFF', () => {
    const r = attrsQuery({ sctlr: { m: 0 }, hcr: { dc: 0, fwb: 1 }, s2: { memattr: 0b0110 } });
    expect(r.status).toBe('ok');
    expect(r.attrs).toMatchObject({ type: 'Normal', device: null, inner: WB_RWA, outer: WB_RWA, sh: 'OSH', attr8: 0xff });
    expect(r.fault).toBeNull();
    expect(r.reasons).toEqual([]);
    expect(r.stages).toEqual({ s1: 'disabled', s2: 'enabled' });
  });

  it('the same access with FWB=0 and MemAttr 0b1111: Device-nGnRnE, OSH, attr8 0x00', () => {
    const r = attrsQuery({ sctlr: { m: 0 }, hcr: { dc: 0, fwb: 0 }, s2: { memattr: 0b1111 } });
    expect(r.status).toBe('ok');
    expect(r.attrs).toMatchObject({ type: 'Device', device: 'nGnRnE', inner: null, outer: null, sh: 'OSH', attr8: 0x00 });
  });
});

describe('attrsQuery: table of cases', () => {
  // Stage 1 MAIR 0xFF ISH (the defaults; XS=0) under every stage-2 MemAttr: XS = s1.XS AND s2.XS
  // unless iWB oWB, and only iNC oNC (or Device) is forced to OSH (EffectiveShareability).
  const FWB0: Record<number, string> = {
    0b0000: 'Device-nGnRnE OSH XS=0 0x01', 0b0001: 'Device-nGnRE OSH XS=0 0x05', 0b0010: 'Device-nGRE OSH XS=0 0x09', 0b0011: 'Device-GRE OSH XS=0 0x0d',
    0b0100: 'Normal iNC oNC OSH XS=0 0x40', 0b0101: 'Normal iNC oNC OSH XS=0 0x40', 0b0110: 'Normal iWT-RWA oNC ISH XS=0 0x4b', 0b0111: 'Normal iWB-RWA oNC ISH XS=0 0x4f',
    0b1000: 'Normal iNC oWT-RWA ISH XS=0 0xb4', 0b1001: 'Normal iNC oWT-RWA ISH XS=0 0xb4', 0b1010: 'Normal iWT-RWA oWT-RWA ISH XS=0 0xbb', 0b1011: 'Normal iWB-RWA oWT-RWA ISH XS=0 0xbf',
    0b1100: 'Normal iNC oWB-RWA ISH XS=0 0xf4', 0b1101: 'Normal iNC oWB-RWA ISH XS=0 0xf4', 0b1110: 'Normal iWT-RWA oWB-RWA ISH XS=0 0xfb', 0b1111: 'Normal iWB-RWA oWB-RWA ISH XS=0 0xff',
  };
  const FWB1: Record<number, string> = {
    0b0000: 'Device-nGnRnE OSH XS=0 0x01', 0b0001: 'Device-nGnRE OSH XS=0 0x05', 0b0010: 'Device-nGRE OSH XS=0 0x09', 0b0011: 'Device-GRE OSH XS=0 0x0d',
    0b0100: 'Normal iNC oNC OSH XS=0 0x40', 0b0101: 'Normal iNC oNC OSH XS=0 0x40', 0b0110: 'Normal iWB-RWA oWB-RWA ISH XS=0 0xff', 0b0111: 'Normal iWB-RWA oWB-RWA ISH XS=0 0xff',
  };
  for (let m = 0; m < 16; m++) {
    it(`FWB=0 MemAttr 0b${m.toString(2).padStart(4, '0')} under MAIR 0xFF`, () => {
      expect(q({ s2: { memattr: m } })).toBe(FWB0[m]);
    });
    it(`FWB=1 MemAttr 0b${m.toString(2).padStart(4, '0')} under MAIR 0xFF (bit 3 RES0, ignored)`, () => {
      expect(q({ hcr: { fwb: 1 }, s2: { memattr: m } })).toBe(FWB1[m & 7]);
      expect(attrsQuery({ hcr: { fwb: 1 }, s2: { memattr: m } }).reasons).toEqual([
        ...((m & 7) === 0b100 ? ['S2FWB_RESERVED'] : []), ...(m & 8 ? ['S2FWB_RES0'] : []),
      ]);
    });
  }

  it('every Device kind at stage 1, alone and with a stage-2 Device (the more restrictive wins)', () => {
    const kinds = ['nGnRnE', 'nGnRE', 'nGRE', 'GRE'];
    for (let d1 = 0; d1 < 4; d1++) {
      expect(q({ hcr: { vm: 0 }, s1: { mair: d1 << 2 } })).toBe(`Device-${kinds[d1]} OSH XS=1 0x${(d1 << 2).toString(16).padStart(2, '0')}`);
      expect(q({ hcr: { vm: 0 }, s1: { mair: (d1 << 2) | 1 } })).toBe(`Device-${kinds[d1]} OSH XS=0 0x${((d1 << 2) | 1).toString(16).padStart(2, '0')}`);
      for (let d2 = 0; d2 < 4; d2++) {
        for (const fwb of [0, 1] as const) {
          const r = attrsQuery({ hcr: { fwb }, s1: { mair: d1 << 2 }, s2: { memattr: d2 } });
          expect(r.attrs?.device).toBe(kinds[Math.min(d1, d2)]);
        }
      }
    }
  });

  it('MMU off with HCR_EL2.DC 0 and 1, data and ifetch', () => {
    expect(q({ sctlr: { m: 0 }, hcr: { vm: 0 } })).toBe('Device-nGnRnE OSH XS=1 0x00');
    expect(q({ acc: 'ifetch', sctlr: { m: 0 }, hcr: { vm: 0 } })).toBe('Normal iWT-RA oWT-RA OSH XS=1 0xaa');
    expect(q({ acc: 'ifetch', sctlr: { m: 0, i: 0 }, hcr: { vm: 0 } })).toBe('Normal iNC oNC OSH XS=1 0x44');
    // DC=1: stage 1 off whatever SCTLR_EL1.M says, Normal WB NSH; the final SH comes from stage 2
    expect(q({ hcr: { dc: 1, vm: 0 }, s2: { sh: 0 } })).toBe('Normal iWB-RWA oWB-RWA NSH XS=0 0xff');
    expect(q({ hcr: { dc: 1 }, s2: { sh: 3 } })).toBe('Normal iWB-RWA oWB-RWA ISH XS=0 0xff');
    expect(q({ acc: 'ifetch', hcr: { dc: 1 }, sctlr: { i: 0 } })).toBe('Normal iWB-RWA oWB-RWA ISH XS=0 0xff');
    expect(q({ hcr: { dc: 1, dct: 1 } })).toBe('Normal iWB-RWA oWB-RWA ISH Tagged XS=0 0xf0');
    expect(attrsQuery({ hcr: { dc: 1 }, sctlr: { m: 1 } }).stages).toEqual({ s1: 'disabled', s2: 'enabled' });
    expect(attrsQuery({ el2: false, hcr: { dc: 1 } }).stages).toEqual({ s1: 'enabled', s2: 'disabled' });
  });

  it('HCR_EL2.CD (data and walks) and HCR_EL2.ID (fetches), after the FWB combination', () => {
    expect(q({ hcr: { cd: 1 } })).toBe('Normal iNC oNC OSH XS=0 0x40'); // XS = s1.XS (0) AND s2.XS
    expect(q({ hcr: { cd: 1, fwb: 1 }, s2: { memattr: 0b0111 } })).toBe('Normal iNC oNC OSH XS=0 0x40');
    expect(q({ hcr: { cd: 1 }, s1: { mair: 0x04 } })).toBe('Device-nGnRE OSH XS=1 0x04');
    expect(q({ acc: 'ifetch', hcr: { cd: 1 } })).toBe('Normal iWB-RWA oWB-RWA ISH XS=0 0xff');
    expect(q({ acc: 'ifetch', hcr: { id: 1 } })).toBe('Normal iNC oNC OSH XS=0 0x40');
    expect(q({ acc: 'ttw', hcr: { cd: 1 } })).toBe('Normal iNC oNC OSH XS=0 0x40');
  });

  it('walks: TCR attributes, stage-2 Device is NC or a fault with PTW', () => {
    expect(q({ acc: 'ttw', tcr: { irgn: 2, orgn: 3, sh: 2 }, hcr: { vm: 0 } })).toBe('Normal iWT-RA oWB-RA OSH XS=1 0xea');
    expect(q({ acc: 'ttw', s2: { memattr: 0 } })).toBe('Normal iNC oNC OSH XS=0 0x40');
    const f = attrsQuery({ acc: 'ttw', hcr: { ptw: 1 }, s2: { memattr: 0 } });
    expect(f).toMatchObject({ status: 'fault', attrs: null, fault: { fault: 'permission', stage: 2 }, reasons: [] });
  });

  it('tagged: MAIR 0xF0 keeps its tag only over stage-2 WB at both levels', () => {
    expect(q({ s1: { mair: 0xf0 } })).toBe('Normal iWB-RWA oWB-RWA ISH Tagged XS=0 0xf0');
    expect(q({ s1: { mair: 0xf0 }, s2: { memattr: 0b1110 } })).toBe('Normal iWT-RWA oWB-RWA ISH XS=0 0xfb');
    expect(q({ s1: { mair: 0xf0 }, feat: { mte2: false } })).toBe('Device-nGnRnE OSH XS=1 0x00'); // reserved without FEAT_MTE2
  });

  it('reserved encodings are reported in reasons, resolved by the AttrOptions defaults', () => {
    const resmair = attrsQuery({ s1: { mair: 0x80 } });
    expect(resmair).toMatchObject({ status: 'unpredictable', reasons: ['RESMAIR'] });
    expect(short(resmair)).toBe('Device-nGnRnE OSH XS=1 0x00');
    expect(attrsQuery({ s1: { mair: 0x80 }, sctlr: { m: 0 } }).reasons).toEqual([]); // not read with stage 1 off
    expect(attrsQuery({ s1: { mair: 0x40 }, feat: { xs: false } }).reasons).toEqual(['RESMAIR']);
    expect(attrsQuery({ s1: { mair: 0x40 } }).reasons).toEqual([]);
    // S2RESMEMATTR: the resolution matters over a cacheable stage 1, not under a stage-1 Device
    expect(attrsQuery({ s2: { memattr: 0b1100 } })).toMatchObject({ status: 'unpredictable', reasons: ['S2RESMEMATTR'] });
    expect(attrsQuery({ s2: { memattr: 0b1100 }, s1: { mair: 0x00 } })).toMatchObject({ status: 'ok', reasons: ['S2RESMEMATTR'] });
    // SH=0b01: matters for a cacheable result, not for Device (always OSH)
    expect(attrsQuery({ s1: { sh: 1 } })).toMatchObject({ status: 'unpredictable', reasons: ['SH_RESERVED_S1'] });
    expect(attrsQuery({ s1: { sh: 1, mair: 0x04 } })).toMatchObject({ status: 'ok', reasons: ['SH_RESERVED_S1'] });
    expect(attrsQuery({ s2: { sh: 1 } })).toMatchObject({ status: 'unpredictable', reasons: ['SH_RESERVED_S2'] });
    expect(attrsQuery({ s2: { sh: 1 }, hcr: { vm: 0 } })).toMatchObject({ status: 'ok', reasons: [] });
    expect(attrsQuery({ acc: 'ttw', tcr: { sh: 1 } })).toMatchObject({ status: 'unpredictable', reasons: ['SH_RESERVED_S1'] });
    // FWB 0b100: NC as the ASL code does, or keep stage 1, or Device
    expect(attrsQuery({ hcr: { fwb: 1 }, s2: { memattr: 0b0100 } })).toMatchObject({ status: 'unpredictable', reasons: ['S2FWB_RESERVED'] });
    // FWB bit 3 alone changes nothing (the ASL ignores it): reported, status ok
    expect(attrsQuery({ hcr: { fwb: 1 }, s2: { memattr: 0b1111 } })).toMatchObject({ status: 'ok', reasons: ['S2FWB_RES0'] });
  });

  it('constrained choices: ifetch from Device (NC or fault), SCTLR_EL1.C=0 on Tagged memory', () => {
    expect(attrsQuery({ acc: 'ifetch', s1: { mair: 0x04 } })).toMatchObject({ status: 'unpredictable', reasons: ['INSTRDEVICE_S1'] });
    const s2dev = attrsQuery({ acc: 'ifetch', s2: { memattr: 0b0001 } });
    expect(s2dev).toMatchObject({ status: 'unpredictable', reasons: ['INSTRDEVICE_S2'], fault: null });
    expect(short(s2dev)).toBe('Normal iNC oNC OSH XS=0 0x40');
    expect(attrsQuery({ acc: 'ifetch', hcr: { fwb: 1 }, s2: { memattr: 0b0111 }, s1: { mair: 0x04 } }).reasons).toEqual(['INSTRDEVICE_S1']);
    // C=0: tags dropped (the model's choice) or kept; only matters where the result could stay WB
    expect(attrsQuery({ s1: { mair: 0xf0 }, sctlr: { c: 0 }, hcr: { vm: 0 } })).toMatchObject({ status: 'unpredictable', reasons: ['S1CTAGGED'] });
    expect(attrsQuery({ s1: { mair: 0xf0 }, sctlr: { c: 0 } })).toMatchObject({ status: 'ok', reasons: ['S1CTAGGED'] });
  });
});

// ---------------------------------------------------------------------------------------------
// The library function against the ASL reference
// ---------------------------------------------------------------------------------------------

interface Raw {
  acc: 'data' | 'ifetch' | 'ttw'; el2: boolean;
  vm: 0 | 1; dc: 0 | 1; dct: 0 | 1; fwb: 0 | 1; cd: 0 | 1; id: 0 | 1; ptw: 0 | 1; m: 0 | 1; c: 0 | 1; i: 0 | 1;
  mair: number; s1sh: number; irgn: number; orgn: number; tsh: number; memattr: number; s2sh: number; fnxs: 0 | 1;
  xs: boolean; mte2: boolean; esh: boolean;
}

function toInput(p: Raw): AttrsQueryInput {
  return {
    acc: p.acc, el2: p.el2,
    hcr: { vm: p.vm, dc: p.dc, dct: p.dct, fwb: p.fwb, cd: p.cd, id: p.id, ptw: p.ptw },
    sctlr: { m: p.m, c: p.c, i: p.i },
    s1: { mair: p.mair, sh: p.s1sh }, tcr: { irgn: p.irgn, orgn: p.orgn, sh: p.tsh },
    s2: { memattr: p.memattr, sh: p.s2sh, fnxs: p.fnxs },
    feat: { xs: p.xs, mte2: p.mte2 }, impdef: { s1_effective_sh: p.esh },
  };
}

function toRef(p: Raw): RefRequest {
  return {
    access: p.acc, el2Enabled: p.el2,
    hcr: { VM: !!p.vm, DC: !!p.dc, DCT: !!p.dct, FWB: !!p.fwb, CD: !!p.cd, ID: !!p.id, PTW: !!p.ptw },
    sctlr: { M: !!p.m, C: !!p.c, I: !!p.i },
    mair: p.mair, s1sh: p.s1sh, tcr: { irgn: p.irgn, orgn: p.orgn, sh: p.tsh },
    s2memattr: p.memattr, s2sh: p.s2sh, s2fnxs: !!p.fnxs,
  };
}

/** The reference's answer in the command's output form (attrs without attr8/notagaccess, or the fault). */
function refAnswer(p: Raw): unknown {
  const opts = resolveAttrOptions({ featXS: p.xs, featMTE2: p.mte2, effectiveShareabilityAtS1: p.esh });
  const r = refTranslate(toRef(p), opts);
  if (r.fault !== 'none') return { fault: 'permission', stage: r.fault === 's1permission' ? 1 : 2 };
  const lvl = (l: typeof r.attrs.inner) => l.attrs === 'NC'
    ? { cache: 'NC', ra: false, wa: false, transient: false }
    : { cache: l.attrs, ra: l.hints === 'RA' || l.hints === 'RWA', wa: l.hints === 'WA' || l.hints === 'RWA', transient: l.transient };
  const dev = r.attrs.memtype === 'Device';
  return {
    type: r.attrs.memtype, device: dev ? r.attrs.device : null, inner: dev ? null : lvl(r.attrs.inner), outer: dev ? null : lvl(r.attrs.outer),
    sh: r.attrs.shareability, tagged: r.attrs.tagged, xs: r.attrs.xs,
  };
}

function queryAnswer(p: Raw): unknown {
  const r = attrsQuery(toInput(p));
  if (r.attrs === null) return r.fault;
  const { attr8: _attr8, notagaccess: _n, ...rest } = r.attrs;
  return rest;
}

const stage1On = (p: Raw): boolean => p.m === 1 && !(p.el2 && p.dc === 1);

const BASE: Raw = {
  acc: 'data', el2: true, vm: 1, dc: 0, dct: 0, fwb: 0, cd: 0, id: 0, ptw: 0, m: 1, c: 1, i: 1,
  mair: 0xff, s1sh: 3, irgn: 1, orgn: 1, tsh: 3, memattr: 15, s2sh: 3, fnxs: 0, xs: true, mte2: true, esh: false,
};

describe('attrsQuery against refTranslate (attrs-reference.ts)', () => {
  it('every MAIR byte x every stage-2 MemAttr x FWB 0/1, data and ifetch, stage 1 on and off', () => {
    const bad: string[] = [];
    for (const acc of ['data', 'ifetch'] as const) {
      for (const m of [0, 1] as const) {
        for (const fwb of [0, 1] as const) {
          for (let mair = 0; mair < 256; mair++) {
            if (m === 0 && mair > 0) break; // MAIR unread with stage 1 off
            for (let memattr = 0; memattr < 16; memattr++) {
              const p: Raw = { ...BASE, acc, m, fwb, mair, memattr, s1sh: mair & 3, s2sh: (memattr + mair) & 3 };
              const got = JSON.stringify(queryAnswer(p)), want = JSON.stringify(refAnswer(p));
              if (got !== want && bad.length < 10) bad.push(`${JSON.stringify(p)}: ${got} != ${want}`);
            }
          }
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('random inputs (property)', () => {
    const bit = fc.constantFrom(0 as const, 1 as const);
    const raw = fc.record({
      acc: fc.constantFrom('data' as const, 'ifetch' as const, 'ttw' as const), el2: fc.boolean(),
      vm: bit, dc: bit, dct: bit, fwb: bit, cd: bit, id: bit, ptw: bit, m: bit, c: bit, i: bit,
      mair: fc.integer({ min: 0, max: 255 }), s1sh: fc.integer({ min: 0, max: 3 }),
      irgn: fc.integer({ min: 0, max: 3 }), orgn: fc.integer({ min: 0, max: 3 }), tsh: fc.integer({ min: 0, max: 3 }),
      memattr: fc.integer({ min: 0, max: 15 }), s2sh: fc.integer({ min: 0, max: 3 }), fnxs: bit,
      xs: fc.boolean(), mte2: fc.boolean(), esh: fc.boolean(),
    });
    fc.assert(fc.property(raw, (p) => {
      if (p.acc === 'ttw' && !stage1On(p)) {
        expect(() => attrsQuery(toInput(p))).toThrow(UserError);
        return;
      }
      expect(queryAnswer(p)).toEqual(refAnswer(p));
      const r = attrsQuery(toInput(p));
      // status rules: 'unpredictable' needs a reason; 'fault' exactly when there is no attrs
      if (r.status === 'unpredictable') expect(r.reasons.length).toBeGreaterThan(0);
      if (r.status === 'fault') expect(r.attrs).toBeNull();
      if (r.reasons.length === 0) expect(r.status).toBe(r.attrs === null ? 'fault' : 'ok');
    }), { numRuns: 3000 });
  });

  it('attr8 decodes (S1DecodeMemAttrs) back to the same type, levels and tag', () => {
    const opts = DEFAULT_ATTR_OPTIONS;
    for (let mair = 0; mair < 256; mair++) {
      for (const memattr of [0b0001, 0b0101, 0b0110, 0b1010, 0b1011, 0b1110, 0b1111]) {
        for (const fwb of [0, 1] as const) {
          const r = attrsQuery({ hcr: { fwb }, s1: { mair }, s2: { memattr } });
          if (r.attrs === null) continue;
          const back = unpackAttrs(decodeMair(r.attrs.attr8, 0b10, opts));
          expect(back.memType).toBe(r.attrs.type);
          expect(back.device).toBe(r.attrs.device);
          expect(back.tagged).toBe(r.attrs.tagged);
          expect(back.reserved).toBe(false);
          if (back.inner) expect([back.inner.cache, back.inner.readAllocate, back.inner.writeAllocate, back.inner.transient]).toEqual(Object.values(r.attrs.inner!));
          if (back.outer) expect([back.outer.cache, back.outer.readAllocate, back.outer.writeAllocate, back.outer.transient]).toEqual(Object.values(r.attrs.outer!));
        }
      }
    }
    expect(attrsToMair(decodeMair(0x40, 0b10, opts))).toBe(0x40);
    expect(attrsToMair(decodeMair(0xa0, 0b10, opts))).toBe(0xa0);
    expect(attrsToMair(decodeMair(0x0d, 0b10, opts))).toBe(0x0d);
  });
});

describe('attrsQuery: bad input is a UserError naming the field', () => {
  const cases: [unknown, string][] = [
    [{ hcr: { vm: 2 } }, "hcr.vm must be one of 0, 1 (got 2)"],
    [{ s1: { mair: 256 } }, 's1.mair must be at most 255 (got 256)'],
    [{ s2: { memattr: -1 } }, 's2.memattr must be at least 0 (got -1)'],
    [{ acc: 'fetch' }, "acc must be one of data, ifetch, ttw (got 'fetch')"],
    [{ hcr: { vn: 1 } }, "unknown key 'hcr.vn'"],
    [{ feat: { mte_perm: true, mte2: false } }, 'feat.mte_perm: FEAT_MTE_PERM needs FEAT_MTE2'],
    [{ acc: 'ttw', sctlr: { m: 0 } }, "acc: 'ttw' is a stage-1 table walk, but stage 1 is disabled"],
    [[1], 'expected a JSON object'],
  ];
  for (const [input, msg] of cases) {
    it(JSON.stringify(input), () => {
      expect(() => attrsQuery(input as AttrsQueryInput, 'attrs: line 7')).toThrow(UserError);
      expect(() => attrsQuery(input as AttrsQueryInput, 'attrs: line 7')).toThrow(`attrs: line 7: ${msg}`);
    });
  }
});

// ---------------------------------------------------------------------------------------------
// End to end: the built command
// ---------------------------------------------------------------------------------------------

describe('armsim attrs (built command)', () => {
  it('--json: one line, the first example', () => {
    const r = armsim(['attrs', '--json', '{"sctlr":{"m":0},"hcr":{"dc":0,"fwb":1},"s2":{"memattr":6}}']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const o = JSON.parse(lines[0]!);
    expect(Object.keys(o)).toEqual(['status', 'attrs', 'fault', 'reasons', 'stages']);
    expect(o).toMatchObject({ status: 'ok', attrs: { type: 'Normal', inner: WB_RWA, outer: WB_RWA, sh: 'OSH', attr8: 255 }, fault: null });
  });

  it('JSON Lines on stdin: one result per input line, blank lines skipped, same as the library', () => {
    const inputs = [
      { sctlr: { m: 0 }, hcr: { fwb: 1 }, s2: { memattr: 6 } },
      { sctlr: { m: 0 }, hcr: { fwb: 0 }, s2: { memattr: 15 } },
      { acc: 'ifetch', s1: { mair: 0x04 } },
      { acc: 'ttw', hcr: { ptw: 1 }, s2: { memattr: 0 } },
      {},
    ] as const;
    const r = armsim(['attrs'], inputs.map((i) => JSON.stringify(i)).join('\n') + '\n\n');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(inputs.length);
    lines.forEach((l, k) => expect(JSON.parse(l)).toEqual(attrsQuery(inputs[k] as AttrsQueryInput)));
    expect(JSON.parse(lines[1]!).attrs).toMatchObject({ type: 'Device', device: 'nGnRnE', sh: 'OSH', attr8: 0 });
    expect(JSON.parse(lines[2]!).status).toBe('unpredictable');
    expect(JSON.parse(lines[3]!)).toMatchObject({ status: 'fault', fault: { fault: 'permission', stage: 2 } });
    expect(JSON.parse(lines[4]!).attrs.inner).toEqual(WB_RWA);
    expect(JSON.parse(lines[0]!).attrs.inner).not.toEqual(NC);
  });

  it('bad input: exit 2, one line on stderr naming the line and the field, nothing on stdout', () => {
    for (const [stdin, args, mention] of [
      ['{}\n{"hcr":{"vm":3}}\n', [], 'line 2: hcr.vm must be one of 0, 1 (got 3)'],
      ['{}\n\n{"s1":{"mair":1', [], 'line 3: not valid JSON'],
      ['', ['--json', '{"s2":{"memattr":16}}'], '--json: s2.memattr must be at most 15 (got 16)'],
      ['', ['--json', '{"s3":{}}'], "--json: unknown key 's3'"],
      ['', ['--jsn', '{}'], "attrs: unknown option '--jsn'"],
    ] as const) {
      const r = armsim(['attrs', ...args], stdin);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr).toContain(mention);
    }
  });

  it('--help documents the status and reason rules', () => {
    const r = armsim(['attrs', '--help']);
    expect(r.code).toBe(0);
    for (const s of ['unpredictable', 'RESMAIR', 'S2RESMEMATTR', 'INSTRDEVICE_S2', 'mte_perm', 'attr8']) expect(r.stdout).toContain(s);
    expect(armsim(['--help']).stdout).toContain('armsim attrs');
  });
});
