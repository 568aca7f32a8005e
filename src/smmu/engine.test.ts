import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { SparseMemory } from '../mem/index.js';
import { PageTableBuilder, TlbiOp, encodeS1Leaf, encodeS2Leaf, NORMAL_WB_RWA_ISH } from '../mmu/index.js';
import { encodeCommand, type CmdFields, type CmdOpName } from './commands.js';
import { resolveSmmuConfig } from './config.js';
import { SmmuAccess, SmmuEngine, type SmmuRequest } from './engine.js';
import { EvtClass, EvtType, decodeEvent, type EventRecord } from './events.js';
import { encodeCd, encodeL1Cd, encodeL1Std, encodeSte, type Cd, type Ste } from './formats.js';
import { StoreMemory } from './memory.js';
import {
  CR0_CMDQEN, CR0_EVENTQEN, CR0_SMMUEN, GBPA_ABORT, GBPA_UPDATE, GERROR_CMDQ_ERR, Q_OVERFLOW_FLAG, Reg,
} from './registers.js';

// ---------------------------------------------------------------------------------------------
// A rig: host stream table + stage 2, guest CD + stage 1 at IPAs (the nested layout of seed 004)
// ---------------------------------------------------------------------------------------------

const STRTAB = 0x1000_0000, CMDQ = 0x1100_0000, EVTQ = 0x1200_0000, CD_PA = 0x1300_0000;
const CD_IPA = 0x80_0000_0000;      // level-0 index 1: its stage-2 walk shares nothing with the others
const IPA_TO_PA = 0x3_0000_0000;    // guest table pages: PA = IPA + this
const VA = 0x7654_3210_f000, IPA = 0x8_1234_5000, PA = 0x6_0000_7000;
const SID = 3, VMID = 9, ASID = 7;

function words(pa: number, w: ArrayLike<number>, m: SparseMemory): void {
  const u = Uint32Array.from(w);
  m.write(pa, new Uint8Array(u.buffer), 0, u.byteLength);
}

function rig(cfg: Record<string, unknown> = {}, opts: { evtqLog2?: number; cmdqLog2?: number } = {}) {
  const m = new SparseMemory({ base: 0, size: 2 ** 48, chunkBytes: 64 * 1024 });
  const mem = new StoreMemory(m);
  const e = new SmmuEngine(mem, resolveSmmuConfig(cfg));
  const s2 = new PageTableBuilder(m, { stage: 2, granule: '4K', inputBits: 48, startLevel: 0, allocBase: 0x2000_0000, allocLimit: 0x2100_0000 });
  const s1 = new PageTableBuilder(m, { stage: 1, granule: '4K', inputBits: 48, allocBase: 0x4000_0000, allocLimit: 0x4010_0000, physOf: (ipa) => ipa + IPA_TO_PA });
  s2.map({ va: 0x4000_0000, oa: 0x4000_0000 + IPA_TO_PA, size: 0x10_0000, level: 3, s2: {} });
  s2.map({ va: CD_IPA, oa: CD_PA, size: 0x1000, level: 3, s2: {} });
  s1.map({ va: VA, oa: IPA, size: 4096, level: 3, s1: { nG: true, ap: 0b01 } });
  s2.map({ va: IPA, oa: PA, size: 4096, level: 3, s2: {} });
  const ste = (over: Partial<Ste> = {}): Uint32Array => encodeSte({
    V: 1, Config: 7, S1ContextPtr: CD_IPA, S2VMID: VMID, S2T0SZ: 16, S2SL0: 2, S2IR0: 1, S2OR0: 1, S2SH0: 3, S2TG: 0, S2PS: 5,
    S2AA64: 1, S2R: 1, S2TTB: s2.root, ...over,
  });
  const cd = (over: Partial<Cd> = {}): Uint32Array => encodeCd({
    T0SZ: 16, TG0: 0, IR0: 1, OR0: 1, SH0: 3, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID, TTB0: s1.root, MAIR0: 0xff, ...over,
  });
  const setSte = (sid: number, w: Uint32Array): void => words(STRTAB + sid * 64, w, m);
  setSte(SID, ste());
  words(CD_PA, cd(), m);
  const w64 = (off: number, v: number): void => e.mmioWrite(off, 8, v % 2 ** 32, Math.floor(v / 2 ** 32));
  w64(Reg.STRTAB_BASE, STRTAB);
  e.mmioWrite(Reg.STRTAB_BASE_CFG, 4, 8);                       // linear, 256 STEs
  w64(Reg.CMDQ_BASE, CMDQ + (opts.cmdqLog2 ?? 4));
  w64(Reg.EVENTQ_BASE, EVTQ + (opts.evtqLog2 ?? 4));
  e.mmioWrite(Reg.CR0, 4, CR0_SMMUEN | CR0_EVENTQEN | CR0_CMDQEN);
  /** Writes commands at CMDQ_PROD, advances it, and runs the queue. */
  const submit = (...cmds: Array<[CmdOpName | 'CFGI_ALL', CmdFields?]>): number => {
    const log2 = opts.cmdqLog2 ?? 4;
    let prod = e.mmioRead(Reg.CMDQ_PROD)[0];
    for (const [op, f] of cmds) {
      words(CMDQ + (prod % 2 ** log2) * 16, encodeCommand(op, f ?? {}), m);
      prod = (prod + 1) % 2 ** (log2 + 1);
    }
    e.mmioWrite(Reg.CMDQ_PROD, 4, prod);
    return e.processCommands();
  };
  /** Event records between EVENTQ_CONS and EVENTQ_PROD, consumed. */
  const events = (): EventRecord[] => {
    const log2 = opts.evtqLog2 ?? 4;
    const out: EventRecord[] = [];
    const prod = e.mmioRead(Reg.EVENTQ_PROD)[0];
    let cons = e.mmioRead(Reg.EVENTQ_CONS)[0] & 0xfffff;
    const buf = new Uint8Array(32);
    while ((cons % 2 ** (log2 + 1)) !== (prod % 2 ** (log2 + 1))) {
      m.read(EVTQ + (cons % 2 ** log2) * 32, buf, 0, 32);
      out.push(decodeEvent(new Uint32Array(buf.slice().buffer)));
      cons = (cons + 1) % 2 ** (log2 + 1);
    }
    e.mmioWrite(Reg.EVENTQ_CONS, 4, ((prod & Q_OVERFLOW_FLAG) | cons) >>> 0);
    return out;
  };
  const tr = (over: Partial<SmmuRequest> = {}) => e.translate({ streamId: SID, iova: VA + 0x123, access: SmmuAccess.Read, ...over });
  return { m, mem, e, s1, s2, ste, cd, setSte, submit, events, tr };
}

// ---------------------------------------------------------------------------------------------

describe('nested translation (Config 0b111, 4K, 4 x 4 levels)', () => {
  it('a cold translation reads the STE, the CD through stage 2 and 24 descriptors; then hits the IOTLB', () => {
    const r = rig({ walkCacheEntries: 0 });
    const x = r.tr();
    expect(x).toMatchObject({ status: 'ok', via: 'walk', pa: PA + 0x123, walkReads: 24 });
    expect(x.attrs).toBe(NORMAL_WB_RWA_ISH);
    expect(x.reads).toBe(8 + 4 + 8 + 24); // STE, stage-2 walk of the CD's IPA, CD, the nested walk
    const y = r.tr({ iova: VA + 0x800, access: SmmuAccess.Write });
    expect(y).toMatchObject({ status: 'ok', via: 'tlb', pa: PA + 0x800, reads: 0 });
    const s = r.e.statsSnapshot();
    // Each look-up counts once: the cold one's STE and CD misses (not a hit again once fetched),
    // the warm one's hits.
    expect(s.streams[SID]).toMatchObject({ translations: 2, tlbHits: 1, tlbMisses: 1, steMisses: 1, steHits: 1, cdMisses: 1, cdHits: 1, walkReads: 24 });
    expect(s.vmids[VMID]).toMatchObject({ tlbHits: 1, tlbMisses: 1 });
    // A hit needs no read: begin() returns it finished.
    const tx = r.e.begin({ streamId: SID, iova: VA + 0x40, access: SmmuAccess.Read });
    expect(tx.done).toBe(true);
    expect(tx.result).toMatchObject({ status: 'ok', via: 'tlb', pa: PA + 0x40, reads: 0 });
    r.e.release(tx);
  });

  it('the walk cache shortens the stage-2 walks of the stage-1 tables (14 reads)', () => {
    const r = rig();
    expect(r.tr()).toMatchObject({ status: 'ok', pa: PA + 0x123, walkReads: 14 });
  });

  it('stale IOTLB entry until CMD_TLBI_NH_VA + CMD_SYNC', () => {
    const r = rig();
    expect(r.tr().pa).toBe(PA + 0x123);
    r.s1.setDescriptor(VA, 3, { lo: 0, hi: 0 }); // the guest unmaps the page ...
    expect(r.tr()).toMatchObject({ status: 'ok', via: 'tlb', pa: PA + 0x123 }); // ... and forgets the TLBI
    expect(r.submit(['TLBI_NH_VA', { VMID, ASID, Address: VA }], ['SYNC', { CS: 2 }])).toBe(2);
    const x = r.tr({ access: SmmuAccess.Write });
    expect(x.status).toBe('abort');
    expect(x.event).toMatchObject({ name: 'F_TRANSLATION', S2: 0, CLASS: EvtClass.IN, RnW: 0, InputAddr: BigInt(VA + 0x123) });
    const ev = r.events();
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ type: EvtType.F_TRANSLATION, StreamID: SID, S2: 0, CLASS: EvtClass.IN, InputAddr: BigInt(VA + 0x123), RnW: 0 });
    expect(r.e.stats.sev).toBe(1);
    expect(r.e.vmidStat(VMID).invalidations).toBeGreaterThan(0);
  });

  it('TLBI_S2_IPA leaves combined entries; TLBI_NH_ALL removes them', () => {
    const r = rig();
    expect(r.tr().pa).toBe(PA + 0x123);
    r.s2.setDescriptor(IPA, 3, encodeS2Leaf(PA + 0x10_0000, 3, 12, {}));
    r.submit(['TLBI_S2_IPA', { VMID, IPA }], ['SYNC']);
    expect(r.tr().pa).toBe(PA + 0x123);
    r.submit(['TLBI_NH_ALL', { VMID }], ['SYNC']);
    expect(r.tr().pa).toBe(PA + 0x10_0000 + 0x123);
  });

  it('a stale STE until CMD_CFGI_STE', () => {
    const r = rig();
    expect(r.tr().status).toBe('ok');
    r.setSte(SID, r.ste({ Config: 0 })); // abort
    expect(r.tr().status).toBe('ok');
    r.submit(['CFGI_STE', { StreamID: SID, Leaf: 1 }], ['SYNC']);
    expect(r.tr()).toMatchObject({ status: 'abort', event: null });
    expect(r.events()).toHaveLength(0); // Config=abort records nothing
  });
});

describe('faults land in the event queue with S2, CLASS and IPA', () => {
  const one = (r: ReturnType<typeof rig>): EventRecord => {
    const ev = r.events();
    expect(ev).toHaveLength(1);
    return ev[0]!;
  };

  it('stage 2 on the CD fetch: S2=1 CLASS=CD IPA=the CD address, InputAddr the device address', () => {
    const r = rig();
    r.setSte(SID, r.ste({ S1ContextPtr: CD_IPA + 0x1_0000 }));
    expect(r.tr().status).toBe('abort');
    expect(one(r)).toMatchObject({ name: 'F_TRANSLATION', S2: 1, CLASS: EvtClass.CD, IPA: CD_IPA + 0x1_0000, InputAddr: BigInt(VA + 0x123) });
  });

  it('stage 2 on a stage-1 table: S2=1 CLASS=TT IPA=the table', () => {
    const r = rig();
    const l2 = r.s1.slotAddress(VA, 2), page = l2 - (l2 % 4096);
    r.s2.setDescriptor(page, 3, { lo: 0, hi: 0 });
    expect(r.tr().status).toBe('abort');
    expect(one(r)).toMatchObject({ name: 'F_TRANSLATION', S2: 1, CLASS: EvtClass.TT, IPA: page });
  });

  it('stage 2 on the output IPA: S2=1 CLASS=IN IPA=the IPA; stage-2 permission', () => {
    const r = rig();
    r.s2.setDescriptor(IPA, 3, encodeS2Leaf(PA, 3, 12, { s2ap: 0b01 })); // read-only at stage 2
    expect(r.tr({ access: SmmuAccess.Write }).status).toBe('abort');
    expect(one(r)).toMatchObject({ name: 'F_PERMISSION', S2: 1, CLASS: EvtClass.IN, IPA, RnW: 0 });
    r.s2.setDescriptor(IPA, 3, { lo: 0, hi: 0 });
    expect(r.tr().status).toBe('abort');
    expect(one(r)).toMatchObject({ name: 'F_TRANSLATION', S2: 1, CLASS: EvtClass.IN, IPA });
  });

  it('stage 1: translation, access flag, permission, address size', () => {
    const r = rig();
    r.s1.setDescriptor(VA, 3, encodeS1Leaf(IPA, 3, 12, { af: false, nG: true }));
    r.tr();
    expect(one(r)).toMatchObject({ name: 'F_ACCESS', S2: 0, CLASS: EvtClass.IN, IPA: 0 });
    r.s1.setDescriptor(VA, 3, encodeS1Leaf(IPA, 3, 12, { ap: 0b11, nG: true })); // read-only
    expect(r.tr({ access: SmmuAccess.Write }).status).toBe('abort');
    expect(one(r)).toMatchObject({ name: 'F_PERMISSION', S2: 0 });
    r.s1.setDescriptor(VA, 3, encodeS1Leaf(2 ** 40, 3, 12, { nG: true }));
    r.setSte(SID, r.ste());
    r.submit(['CFGI_STE', { StreamID: SID }]);
    r.m.write(CD_PA, new Uint8Array(r.cd({ IPS: 2 }).buffer), 0, 64); // 40-bit IPA space
    r.submit(['CFGI_CD', { StreamID: SID, SubstreamID: 0 }]);
    r.tr();
    expect(one(r)).toMatchObject({ name: 'F_ADDR_SIZE', S2: 0, CLASS: EvtClass.IN });
    r.s1.setDescriptor(VA, 3, { lo: 0, hi: 0 });
    r.tr({ iova: VA + 0x1000 });
    expect(one(r)).toMatchObject({ name: 'F_TRANSLATION', S2: 0, CLASS: EvtClass.IN, InputAddr: BigInt(VA + 0x1000) });
  });

  it('CD.R=0 suppresses stage-1 records; CD.A=0 terminates as RAZ/WI', () => {
    const r = rig();
    r.m.write(CD_PA, new Uint8Array(r.cd({ R: 0, A: 0 }).buffer), 0, 64);
    expect(r.tr({ iova: VA + 0x10_0000 }).status).toBe('raz-wi');
    expect(r.events()).toHaveLength(0);
    expect(r.e.stats.eventsSuppressed).toBe(1);
  });

  it('external aborts: F_WALK_EABT (S2=0 CLASS=TT, FetchAddr), F_STE_FETCH, F_CD_FETCH', () => {
    const r = rig();
    const l3 = r.s1.slotAddress(VA, 3) + IPA_TO_PA;
    r.mem.abortRanges = [[l3, 8]];
    r.tr();
    expect(one(r)).toMatchObject({ name: 'F_WALK_EABT', S2: 0, CLASS: EvtClass.TT, FetchAddr: l3 });
    r.mem.abortRanges = [[STRTAB + 5 * 64, 64]];
    r.tr({ streamId: 5 });
    expect(one(r)).toMatchObject({ name: 'F_STE_FETCH', StreamID: 5, FetchAddr: STRTAB + 5 * 64 });
    r.mem.abortRanges = [[CD_PA, 64]];
    r.setSte(6, r.ste());
    r.tr({ streamId: 6 });
    expect(one(r)).toMatchObject({ name: 'F_CD_FETCH', StreamID: 6, FetchAddr: CD_PA });
  });

  it('configuration errors: C_BAD_STREAMID, C_BAD_STE, C_BAD_CD, C_BAD_SUBSTREAMID, F_STREAM_DISABLED', () => {
    const r = rig();
    r.tr({ streamId: 300 });
    expect(one(r)).toMatchObject({ name: 'C_BAD_STREAMID', StreamID: 300 });
    r.tr({ streamId: 7 }); // all-zero STE: V=0
    expect(one(r)).toMatchObject({ name: 'C_BAD_STE', StreamID: 7 });
    r.setSte(8, r.ste({ S2T0SZ: 40, S2SL0: 2 })); // inconsistent SL0
    r.tr({ streamId: 8 });
    expect(one(r).name).toBe('C_BAD_STE');
    r.tr({ ssv: true, substreamId: 1 }); // S1CDMax = 0
    expect(one(r)).toMatchObject({ name: 'C_BAD_SUBSTREAMID', SSV: 1, SubstreamID: 1 });
    r.setSte(9, r.ste({ S1CDMax: 2, S1DSS: 0 }));
    r.tr({ streamId: 9 });
    expect(one(r).name).toBe('F_STREAM_DISABLED');
    r.m.write(CD_PA + 64, new Uint8Array(r.cd({ AA64: 0 }).buffer), 0, 64);
    r.tr({ streamId: 9, ssv: true, substreamId: 1 });
    expect(one(r)).toMatchObject({ name: 'C_BAD_CD', StreamID: 9, SSV: 1, SubstreamID: 1 });
    r.tr({ streamId: 9, ssv: true, substreamId: 4 });
    expect(one(r).name).toBe('C_BAD_SUBSTREAMID');
  });
});

describe('stream and CD table formats', () => {
  it('2-level stream table and 2-level CD table (4KB leaves) with a substream, nested', () => {
    const r = rig();
    const L1 = 0x1400_0000, L2 = 0x1401_0000;
    r.e.mmioWrite(Reg.STRTAB_BASE, 8, L1, 0);
    r.e.mmioWrite(Reg.STRTAB_BASE_CFG, 4, (1 << 16) | (8 << 6) | 16); // 2-level, SPLIT 8, 2^16 SIDs
    const sid = 0x123;
    words(L1 + (sid >> 8) * 8, encodeL1Std({ Span: 9, L2Ptr: L2 }), r.m);
    // L1CD table at CD_IPA (a guest IPA); the leaf table (4KB-aligned, L2Ptr [51:12]) on its own page.
    const leafIpa = CD_IPA + 0x1_0000, leafPa = 0x1310_0000;
    r.s2.map({ va: leafIpa, oa: leafPa, size: 0x1000, level: 3, s2: {} });
    words(L2 + (sid & 0xff) * 64, r.ste({ S1Fmt: 1, S1CDMax: 8, S1DSS: 2 }), r.m);
    words(CD_PA, new Uint32Array(16), r.m); // the L1CD table replaces the linear CD of the rig
    words(CD_PA + 1 * 8, encodeL1Cd({ V: 1, L2Ptr: leafIpa }), r.m); // SSID 70: L1 index 1, leaf index 6
    words(leafPa + 6 * 64, r.cd({ ASID: 70 }), r.m);
    const x = r.tr({ streamId: sid, ssv: true, substreamId: 70 });
    expect(x).toMatchObject({ status: 'ok', pa: PA + 0x123 });
    // SID beyond the level-2 span (Span 9 -> 256 STEs fine; Span 1 -> 1 STE)
    words(L1 + 2 * 8, encodeL1Std({ Span: 1, L2Ptr: L2 }), r.m);
    r.tr({ streamId: 0x201 });
    expect(r.events().at(-1)!.name).toBe('C_BAD_STREAMID');
    // L1CD with V=0
    r.tr({ streamId: sid, ssv: true, substreamId: 200 });
    expect(r.events().at(-1)!.name).toBe('C_BAD_SUBSTREAMID');
  });

  it('stage-2 only and bypass streams; SMMUEN=0 follows GBPA', () => {
    const r = rig();
    r.setSte(10, r.ste({ Config: 6 }));
    expect(r.tr({ streamId: 10, iova: IPA + 8 })).toMatchObject({ status: 'ok', pa: PA + 8 });
    expect(r.tr({ streamId: 10, iova: IPA + 16 })).toMatchObject({ status: 'ok', pa: PA + 16, via: 'tlb' });
    r.setSte(11, encodeSte({ V: 1, Config: 4 }));
    expect(r.tr({ streamId: 11, iova: 0x1234 })).toMatchObject({ status: 'ok', pa: 0x1234, via: 'bypass' });
    r.e.mmioWrite(Reg.CR0, 4, 0);
    expect(r.tr({ iova: 0x5000 })).toMatchObject({ status: 'ok', via: 'gbpa', pa: 0x5000 });
    r.e.mmioWrite(Reg.GBPA, 4, GBPA_ABORT); // without UPDATE: ignored
    expect(r.tr({ iova: 0x5000 }).status).toBe('ok');
    r.e.mmioWrite(Reg.GBPA, 4, (GBPA_ABORT | GBPA_UPDATE) >>> 0);
    expect(r.e.mmioRead(Reg.GBPA)[0] & GBPA_UPDATE).toBe(0); // the update completes at once
    expect(r.tr({ iova: 0x5000 })).toMatchObject({ status: 'abort', event: null });
  });
});

describe('command queue', () => {
  it('consumes all 2^N entries with index and wrap bits', () => {
    const r = rig({}, { cmdqLog2: 2 });
    expect(r.submit(['SYNC'], ['SYNC'], ['SYNC'], ['SYNC'])).toBe(4); // 4 of 4 slots in use at once
    expect(r.e.mmioRead(Reg.CMDQ_CONS)[0]).toBe(0b100);             // index 0, wrap 1
    expect(r.submit(['SYNC'], ['SYNC'], ['SYNC'], ['SYNC'])).toBe(4);
    expect(r.e.mmioRead(Reg.CMDQ_CONS)[0]).toBe(0b000);
    expect(r.e.stats.syncs).toBe(8);
  });

  it('an illegal command stops the queue with CERROR_ILL and GERROR.CMDQ_ERR until GERRORN', () => {
    const r = rig();
    r.e.mmioWrite(Reg.IRQ_CTRL, 4, 1);
    // SYNC, then an undefined opcode (0x07), then a SYNC
    expect(r.submit(['SYNC'], ['SYNC'], ['SYNC'])).toBe(3);
    r.m.write(CMDQ + 3 * 16, new Uint8Array(new Uint32Array([0x46, 0, 0, 0]).buffer), 0, 16);
    r.m.write(CMDQ + 4 * 16, new Uint8Array(new Uint32Array([0x07, 0, 0, 0]).buffer), 0, 16);
    r.m.write(CMDQ + 5 * 16, new Uint8Array(new Uint32Array([0x46, 0, 0, 0]).buffer), 0, 16);
    r.e.mmioWrite(Reg.CMDQ_PROD, 4, 6);
    expect(r.e.processCommands()).toBe(1);
    const cons = r.e.mmioRead(Reg.CMDQ_CONS)[0];
    expect(cons & 0xfffff).toBe(4);           // stopped at the bad entry
    expect((cons >>> 24) & 0x7f).toBe(1);     // CERROR_ILL
    const gerror = r.e.mmioRead(Reg.GERROR)[0], gerrorn = r.e.mmioRead(Reg.GERRORN)[0];
    expect((gerror ^ gerrorn) & GERROR_CMDQ_ERR).toBe(GERROR_CMDQ_ERR);
    expect(r.e.stats.irqGerror).toBe(1);
    expect(r.e.processCommands()).toBe(0);    // stays stopped while the error is active
    // Linux __arm_smmu_cmdq_skip_err: replace the bad command by a CMD_SYNC, then acknowledge.
    r.m.write(CMDQ + 4 * 16, new Uint8Array(new Uint32Array([0x46, 0, 0, 0]).buffer), 0, 16);
    r.e.mmioWrite(Reg.GERRORN, 4, gerror);
    expect(r.e.processCommands()).toBe(2);
    expect(r.e.mmioRead(Reg.CMDQ_CONS)[0] & 0xfffff).toBe(6);
  });

  it('feature-dependent commands are CERROR_ILL (ATC_INV without ATS, EL3 TLBIs, SSec=1)', () => {
    const r = rig();
    expect(r.submit(['ATC_INV', { StreamID: 1 }])).toBe(0);
    expect((r.e.mmioRead(Reg.CMDQ_CONS)[0] >>> 24) & 0x7f).toBe(1);
  });

  it('CMD_SYNC with CS=SIG_IRQ writes MSIData to MSIAddress', () => {
    const r = rig();
    r.submit(['SYNC', { CS: 1, MSIData: 0xcafe, MSIAddress: 0x1500_0000 }]);
    const b = new Uint8Array(4);
    r.m.read(0x1500_0000, b, 0, 4);
    expect(new DataView(b.buffer).getUint32(0, true)).toBe(0xcafe);
  });
});

describe('event queue', () => {
  it('overflow: the record is dropped and EVENTQ_PROD.OVFLG toggles once until acknowledged', () => {
    const r = rig({}, { evtqLog2: 1 }); // 2 entries
    for (let i = 0; i < 3; i++) r.tr({ streamId: 100 + i }); // C_BAD_STE x 3
    let prod = r.e.mmioRead(Reg.EVENTQ_PROD)[0];
    expect(prod & 0xfffff).toBe(0b10);        // index 0, wrap 1: full
    expect((prod & Q_OVERFLOW_FLAG) !== 0).toBe(true);
    r.tr({ streamId: 110 });
    expect(r.e.mmioRead(Reg.EVENTQ_PROD)[0]).toBe(prod); // still full; no second toggle
    expect(r.e.stats.eventsOverflowed).toBe(2);
    const ev = r.events();                    // consumes and acknowledges (OVACKFLG = OVFLG)
    expect(ev.map((e) => e.StreamID)).toEqual([100, 101]);
    r.tr({ streamId: 111 });
    prod = r.e.mmioRead(Reg.EVENTQ_PROD)[0];
    expect(prod & 0xfffff).toBe(0b11);
    expect(r.events().map((e) => e.StreamID)).toEqual([111]);
  });

  it('EVENTQEN=0 discards records', () => {
    const r = rig();
    r.e.mmioWrite(Reg.CR0, 4, CR0_SMMUEN | CR0_CMDQEN);
    expect(r.tr({ streamId: 100 }).recorded).toBe(false);
    expect(r.e.stats.eventsDiscarded).toBe(1);
  });
});

describe('stall model', () => {
  it('CD.S=1: a stage-1 fault stalls with Stall=1 and a STAG; RESUME retry after the fix succeeds', () => {
    const r = rig();
    r.m.write(CD_PA, new Uint8Array(r.cd({ S: 1 }).buffer), 0, 64);
    const va2 = VA + 0x20_0000;
    const x = r.tr({ iova: va2 });
    expect(x).toMatchObject({ status: 'stalled', recorded: true });
    const ev = r.events()[0]!;
    expect(ev).toMatchObject({ name: 'F_TRANSLATION', Stall: 1, STAG: x.stag, S2: 0 });
    r.s1.map({ va: va2, oa: IPA, size: 4096, level: 3, s1: { nG: true, ap: 0b01 } });
    r.submit(['RESUME', { StreamID: SID, STAG: x.stag, Action: 1 }], ['SYNC']);
    const done = r.e.takeCompletions();
    expect(done).toHaveLength(1);
    expect(done[0]!.result).toMatchObject({ status: 'ok', pa: PA });
  });

  it('STE.S2S=1 stalls stage-2 faults; STALL_TERM terminates them', () => {
    const r = rig();
    r.setSte(SID, r.ste({ S2S: 1 }));
    r.s2.setDescriptor(IPA, 3, { lo: 0, hi: 0 });
    const x = r.tr();
    expect(x.status).toBe('stalled');
    expect(r.events()[0]).toMatchObject({ S2: 1, Stall: 1, CLASS: EvtClass.IN, IPA });
    r.submit(['STALL_TERM', { StreamID: SID }]);
    expect(r.e.takeCompletions()[0]!.result.status).toBe('abort');
    expect(r.e.stalledTransactions()).toHaveLength(0);
  });
});

describe('registers', () => {
  it('IDR0.HTTU from the config; CD.HA/HD and STE.S2HA/S2HD beyond it are C_BAD_CD / C_BAD_STE; within it a walk sets AF instead of F_ACCESS', () => {
    for (const httu of [0, 1, 2] as const) {
      const r = rig({ httu });
      expect((r.e.mmioRead(Reg.IDR0)[0] >>> 6) & 3).toBe(httu);
      const names: string[] = [];
      const tryCfg = (sid: number, ste: Partial<Ste>, cd: Partial<Cd>): void => {
        r.m.write(CD_PA + 64 * sid, new Uint8Array(r.cd(cd).buffer), 0, 64);
        r.setSte(sid, r.ste({ S1ContextPtr: CD_IPA + 64 * sid, ...ste }));
        const res = r.tr({ streamId: sid });
        const ev = r.events();
        names.push(res.status === 'ok' ? 'ok' : ev[0]?.name ?? res.status);
      };
      tryCfg(10, {}, { HA: 1 });
      tryCfg(11, {}, { HA: 1, HD: 1 });
      tryCfg(12, { S2HA: 1 }, {});
      tryCfg(13, { S2HA: 1, S2HD: 1 }, {});
      const want = [['C_BAD_CD', 'C_BAD_CD', 'C_BAD_STE', 'C_BAD_STE'], ['ok', 'C_BAD_CD', 'ok', 'C_BAD_STE'], ['ok', 'ok', 'ok', 'ok']][httu]!;
      expect({ httu, names }).toEqual({ httu, names: want });
    }
    // With CD.HA an AF=0 leaf translates, and the walk leaves AF set in the table.
    const r = rig({ httu: 1 });
    r.s1.setDescriptor(VA, 3, encodeS1Leaf(IPA, 3, 12, { af: false, nG: true, ap: 0b01 }));
    r.m.write(CD_PA, new Uint8Array(r.cd({ HA: 1 }).buffer), 0, 64);
    expect(r.tr()).toMatchObject({ status: 'ok', pa: PA + 0x123 });
    const leaf = new Uint8Array(8);
    r.m.read(r.s1.slotAddress(VA, 3) + IPA_TO_PA, leaf, 0, 8);
    expect((leaf[1]! >>> 2) & 1).toBe(1);                           // AF, bit 10
    // With CD.HD a read leaves a writable-clean (DBM) page read-only in the IOTLB; the write after
    // it misses the IOTLB's permission, walks again and records the dirty state (AP[2] cleared).
    const d = rig({ httu: 2 });
    d.s1.setDescriptor(VA, 3, encodeS1Leaf(IPA, 3, 12, { nG: true, ap: 0b11, dbm: true }));
    d.m.write(CD_PA, new Uint8Array(d.cd({ HA: 1, HD: 1 }).buffer), 0, 64);
    expect(d.tr()).toMatchObject({ status: 'ok', via: 'walk' });
    expect(d.tr({ iova: VA + 8 })).toMatchObject({ status: 'ok', via: 'tlb' });
    const ap2 = (): number => { d.m.read(d.s1.slotAddress(VA, 3) + IPA_TO_PA, leaf, 0, 8); return (leaf[0]! >>> 7) & 1; };
    expect(ap2()).toBe(1);
    expect(d.tr({ access: SmmuAccess.Write })).toMatchObject({ status: 'ok', via: 'walk' });
    expect(ap2()).toBe(0);
    expect(d.tr({ iova: VA + 16, access: SmmuAccess.Write })).toMatchObject({ status: 'ok', via: 'tlb' });
  });

  it('IDRs from the config, CR0ACK follows CR0, GERROR is read-only', () => {
    const r = rig({ s1p: true, s2p: true, stallModel: 1, cmdqs: 8, eventqs: 7, fwb: true, oasBits: 44, granules: ['4K', '64K'] });
    const idr0 = r.e.mmioRead(Reg.IDR0)[0];
    expect(idr0 & 3).toBe(3);
    expect((idr0 >>> 2) & 3).toBe(2);              // TTF AArch64
    expect((idr0 >>> 24) & 3).toBe(1);             // STALL_MODEL
    expect((idr0 >>> 27) & 3).toBe(1);             // ST_LEVEL 2-level
    const idr1 = r.e.mmioRead(Reg.IDR1)[0];
    expect([(idr1 >>> 21) & 0x1f, (idr1 >>> 16) & 0x1f, idr1 & 0x3f]).toEqual([8, 7, 16]);
    expect((r.e.mmioRead(Reg.IDR3)[0] >>> 8) & 1).toBe(1);
    expect(r.e.mmioRead(Reg.IDR5)[0]).toBe(4 | 16 | 64);
    expect(r.e.mmioRead(Reg.CR0ACK)[0]).toBe(CR0_SMMUEN | CR0_EVENTQEN | CR0_CMDQEN);
    r.e.mmioWrite(Reg.GERROR, 4, 0xff);
    expect(r.e.mmioRead(Reg.GERROR)[0]).toBe(0);
    r.e.mmioWrite(Reg.IDR0, 4, 0);
    expect(r.e.mmioRead(Reg.IDR0)[0]).toBe(idr0);
    // page-1 copies of the event queue pointers
    expect(r.e.mmioRead(0x10000 + Reg.EVENTQ_PROD)[0]).toBe(r.e.mmioRead(Reg.EVENTQ_PROD)[0]);
  });

  it('an unknown config key is a one-line error naming it', () => {
    expect(() => resolveSmmuConfig({ cmdqsize: 4 })).toThrow(/smmu\.cmdqsize: unknown key/);
  });
});

describe('translations in flight (begin / supply)', () => {
  // Eight pages mapped through both stages, one unmapped page, a second ASID-less stream (bad SID).
  const PAGES = 8, HOLE = VA + PAGES * 4096;
  function mapped() {
    const r = rig();
    for (let i = 1; i < PAGES; i++) {
      r.s1.map({ va: VA + i * 4096, oa: IPA + i * 4096, size: 4096, level: 3, s1: { nG: true, ap: 0b01 } });
      r.s2.map({ va: IPA + i * 4096, oa: PA + i * 0x2000, size: 4096, level: 3, s2: {} });
    }
    return r;
  }
  const requests: SmmuRequest[] = [];
  for (let i = 0; i < PAGES; i++) requests.push({ streamId: SID, iova: VA + i * 4096 + 8 * i, access: i % 3 === 0 ? SmmuAccess.Write : SmmuAccess.Read });
  requests.push({ streamId: SID, iova: HOLE + 0x40, access: SmmuAccess.Read });   // stage-1 translation fault
  requests.push({ streamId: 200, iova: VA, access: SmmuAccess.Read });            // STE V=0: C_BAD_STE

  it('any interleaving of the answers gives each transaction the result it gets alone', () => {
    const ref = mapped();
    const want = requests.map((q) => ref.e.translate(q));
    expect(want.filter((x) => x.status === 'ok')).toHaveLength(PAGES);
    const wantEvents = ref.events().map((ev) => ev.type).sort();
    expect(wantEvents).toEqual([EvtType.F_TRANSLATION, EvtType.C_BAD_STE].sort());
    fc.assert(fc.property(fc.array(fc.nat(), { minLength: 1, maxLength: 400 }), (picks) => {
      const r = mapped();
      const txs = requests.map((q) => r.e.begin(q));
      const d = { lo: 0, hi: 0 };
      let k = 0;
      for (;;) {
        const waiting = txs.filter((t) => !t.done);
        if (waiting.length === 0) break;
        const t = waiting[picks[k++ % picks.length]! % waiting.length]!;
        const ok = r.mem.read64(t.readPa, d);
        r.e.supply(t, ok, d.lo, d.hi);
      }
      txs.forEach((t, i) => {
        const got = t.result, exp = want[i]!;
        expect({ status: got.status, pa: got.pa, attrs: got.attrs, perms: got.perms, event: got.event?.type })
          .toEqual({ status: exp.status, pa: exp.pa, attrs: exp.attrs, perms: exp.perms, event: exp.event?.type });
        r.e.release(t);
      });
      // Every fault was recorded once, whatever the order.
      expect(r.events().map((ev) => ev.type).sort()).toEqual(wantEvents);
    }), { numRuns: 40 });
  });

  it('a read answered with an abort ends the walk with F_WALK_EABT naming that read', () => {
    const r = rig({ walkCacheEntries: 0 });
    const t = r.e.begin({ streamId: SID, iova: VA, access: SmmuAccess.Read });
    const d = { lo: 0, hi: 0 };
    // Answer the STE and CD fetches and the CD's stage-2 walk, then abort the first walk read.
    for (let i = 0; i < 8 + 4 + 8; i++) { r.mem.read64(t.readPa, d); r.e.supply(t, true, d.lo, d.hi); }
    const failed = t.readPa;
    r.e.supply(t, false);
    expect(t.done).toBe(true);
    expect(t.result).toMatchObject({ status: 'abort', reads: 21 });
    expect(t.result.event).toMatchObject({ name: 'F_WALK_EABT', FetchAddr: failed });
    expect(() => r.e.supply(t, true)).toThrow(/not waiting/);
    r.e.release(t);
    const u = r.e.begin({ streamId: SID, iova: VA, access: SmmuAccess.Read });
    expect(u.done).toBe(false);
    expect(() => r.e.release(u)).toThrow(/still waiting/);
  });
});

describe('stall forced (IDR0.STALL_MODEL = 0b10; IHI 0070 5.5)', () => {
  const forced = () => {
    const r = rig({ stallModel: 2 });
    r.setSte(SID, r.ste({ S2S: 1 }));                  // a stage-2 STE must stall: S2S=0 is ILLEGAL
    r.m.write(CD_PA, new Uint8Array(r.cd({ S: 1 }).buffer), 0, 64);
    return r;
  };

  it('IDR0 says so; CD.S=0 is C_BAD_CD, STE.S2S=0 and S1STALLD=1 are C_BAD_STE', () => {
    const r = rig({ stallModel: 2 });
    expect((r.e.mmioRead(Reg.IDR0)[0] >>> 24) & 3).toBe(2);
    expect(r.tr()).toMatchObject({ status: 'abort', event: { name: 'C_BAD_STE' } });          // the rig's STE has S2S=0
    r.setSte(SID, r.ste({ S2S: 1 }));
    r.submit(['CFGI_STE', { StreamID: SID, Leaf: 1 }]);
    expect(r.tr()).toMatchObject({ status: 'abort', recorded: true, event: { name: 'C_BAD_CD' } });   // CD.S=0
    r.setSte(SID, r.ste({ S2S: 1, S1STALLD: 1 }));
    r.submit(['CFGI_STE', { StreamID: SID, Leaf: 1 }]);
    expect(r.tr().event).toMatchObject({ name: 'C_BAD_STE' });
    // Stage 1 only (Config 0b101): S2S is not looked at, CD.S still must be 1.
    r.setSte(SID, r.ste({ Config: 5, S1ContextPtr: CD_PA }));
    r.submit(['CFGI_STE', { StreamID: SID, Leaf: 1 }]);
    expect(r.tr().event).toMatchObject({ name: 'C_BAD_CD' });
    expect(r.events().map((e) => e.name)).toEqual(['C_BAD_STE', 'C_BAD_CD', 'C_BAD_STE', 'C_BAD_CD']);
  });

  it('a stage-1 fault stalls even with CD.R=0 (the stall is always recorded), and RESUME retry after the fix succeeds', () => {
    const r = forced();
    r.m.write(CD_PA, new Uint8Array(r.cd({ S: 1, R: 0 }).buffer), 0, 64);
    const va2 = VA + 0x20_0000;
    const x = r.tr({ iova: va2, access: SmmuAccess.Write });
    expect(x).toMatchObject({ status: 'stalled', recorded: true, event: { name: 'F_TRANSLATION', Stall: 1, S2: 0, RnW: 0 } });
    expect(r.events()[0]).toMatchObject({ Stall: 1, STAG: x.stag, StreamID: SID });
    r.s1.map({ va: va2, oa: IPA, size: 4096, level: 3, s1: { nG: true, ap: 0b01 } });
    r.submit(['RESUME', { StreamID: SID, STAG: x.stag + 1, Action: 1 }]);   // a STAG that names nothing: a no-op
    expect(r.e.takeCompletions()).toHaveLength(0);
    r.submit(['RESUME', { StreamID: SID, STAG: x.stag, Action: 1 }], ['SYNC']);
    expect(r.e.takeCompletions()).toEqual([{ streamId: SID, stag: x.stag, result: expect.objectContaining({ status: 'ok', pa: PA }) }]);
    expect(r.e.stats).toMatchObject({ stalls: 1, resumes: 1, commandErrors: 0 });
  });

  it('stage-2 faults stall too, on the input and on the CD fetch (CLASS=CD); terminate is still possible', () => {
    const r = forced();
    r.s2.setDescriptor(IPA, 3, { lo: 0, hi: 0 });
    const a = r.tr();
    const b = r.tr({ streamId: SID, iova: VA + 8 });
    expect([a.status, b.status]).toEqual(['stalled', 'stalled']);
    expect(r.events().map((e) => [e.S2, e.CLASS, e.Stall])).toEqual([[1, EvtClass.IN, 1], [1, EvtClass.IN, 1]]);
    // CMD_RESUME Action [13:12] = {Ab, Ac}: Terminate with Ab=0 completes RAZ/WI (TERM_MODEL=0,
    // whatever CD.A and S2S say); Ab=1 (Linux CMDQ_RESUME_0_RESP_ABORT) aborts (IHI 0070 4.7.1).
    r.submit(['RESUME', { StreamID: SID, STAG: a.stag, Action: 0 }], ['RESUME', { StreamID: SID, STAG: b.stag, Action: 2 }]);
    expect(r.e.takeCompletions().map((c) => c.result.status)).toEqual(['raz-wi', 'abort']);
    // The CD's IPA unmapped at stage 2: the CD fetch stalls with CLASS=CD.
    r.s2.setDescriptor(CD_IPA, 3, { lo: 0, hi: 0 });
    r.submit(['CFGI_CD_ALL', { StreamID: SID }]);
    const c = r.tr();
    expect(c).toMatchObject({ status: 'stalled', event: { name: 'F_TRANSLATION', S2: 1, CLASS: EvtClass.CD, IPA: CD_IPA } });
    // CMD_STALL_TERM aborts every stalled transaction of the stream (IHI 0070 4.7.2).
    r.submit(['STALL_TERM', { StreamID: SID }]);
    expect(r.e.takeCompletions()).toEqual([{ streamId: SID, stag: c.stag, result: expect.objectContaining({ status: 'abort' }) }]);
    expect(r.e.stalledTransactions()).toHaveLength(0);
  });

  it('with TERM_MODEL=1 a RESUME terminate aborts; faults that are not translation-related still terminate at once', () => {
    const r = rig({ stallModel: 2, termModel: 1 });
    r.setSte(SID, r.ste({ S2S: 1 }));
    r.m.write(CD_PA, new Uint8Array(r.cd({ S: 1 }).buffer), 0, 64);
    const x = r.tr({ iova: VA + 0x40_0000 });
    expect(x.status).toBe('stalled');
    r.submit(['RESUME', { StreamID: SID, STAG: x.stag, Action: 0 }]);
    expect(r.e.takeCompletions()[0]!.result.status).toBe('abort');
    // C_BAD_SUBSTREAMID (a configuration error) and F_WALK_EABT are never stalled (IHI 0070 3.12).
    expect(r.tr({ ssv: true, substreamId: 1 })).toMatchObject({ status: 'abort', event: { name: 'C_BAD_SUBSTREAMID' } });
    const w = rig({ stallModel: 2, walkCacheEntries: 0 });
    w.setSte(SID, w.ste({ S2S: 1 }));
    w.m.write(CD_PA, new Uint8Array(w.cd({ S: 1 }).buffer), 0, 64);
    const t = w.e.begin({ streamId: SID, iova: VA, access: SmmuAccess.Read });
    const d = { lo: 0, hi: 0 };
    for (let i = 0; i < 8 + 4 + 8; i++) { w.mem.read64(t.readPa, d); w.e.supply(t, true, d.lo, d.hi); }   // STE, CD's stage 2, CD
    w.e.supply(t, false);                                    // the first walk read aborts
    expect(t.result).toMatchObject({ status: 'abort', event: { name: 'F_WALK_EABT', Stall: 0 } });
    w.e.release(t);
    expect(r.e.stalledTransactions().length + w.e.stalledTransactions().length).toBe(0);
  });

  it('the other models: S1STALLD=1 with CD.S=1 is C_BAD_CD under 0b00 (terminate-only use is fine); under 0b01 S1STALLD=1 is C_BAD_STE and RESUME is CERROR_ILL', () => {
    const r0 = rig({ stallModel: 0 });
    r0.setSte(SID, r0.ste({ S1STALLD: 1 }));
    expect(r0.tr().status).toBe('ok');
    r0.m.write(CD_PA, new Uint8Array(r0.cd({ S: 1 }).buffer), 0, 64);
    r0.submit(['CFGI_CD_ALL', { StreamID: SID }]);
    expect(r0.tr({ iova: VA + 0x20_0000 }).event).toMatchObject({ name: 'C_BAD_CD' });
    const r1 = rig({ stallModel: 1 });
    r1.setSte(SID, r1.ste({ S1STALLD: 1 }));
    expect(r1.tr().event).toMatchObject({ name: 'C_BAD_STE' });
    expect(r1.submit(['RESUME', { StreamID: SID, STAG: 0, Action: 1 }])).toBe(0);
    expect(r1.e.mmioRead(Reg.CMDQ_CONS)[0] >>> 24 & 0x7f).toBe(1);   // CERROR_ILL
  });
});

describe('broadcast TLB maintenance (IDR0.BTM; IHI 0070 3.17)', () => {
  const warm = (cfg: Record<string, unknown>) => {
    const r = rig(cfg);
    expect(r.tr()).toMatchObject({ status: 'ok', via: 'walk', pa: PA + 0x123 });
    r.s1.setDescriptor(VA, 3, { lo: 0, hi: 0 });          // the page is unmapped; the IOTLB still has it
    expect(r.tr()).toMatchObject({ status: 'ok', via: 'tlb' });
    return r;
  };

  it('with BTM a PE TLBI VAE1IS for the stream\'s VMID and ASID removes the IOTLB entry; without BTM nothing reaches it', () => {
    const r = warm({ btm: true });
    expect(r.e.broadcastTlbi(TlbiOp.VALE1IS, VA, 0, ASID + 1, VMID)).toBe(0);    // another ASID
    expect(r.e.broadcastTlbi(TlbiOp.VAE1IS, VA, 0, ASID, VMID + 1)).toBe(0);     // another VM (walk-cache entries are per VMID too)
    expect(r.tr().via).toBe('tlb');
    expect(r.e.broadcastTlbi(TlbiOp.VALE1IS, VA, 0, ASID, VMID)).toBeGreaterThan(0);
    expect(r.tr({ access: SmmuAccess.Write })).toMatchObject({ status: 'abort', event: { name: 'F_TRANSLATION' } });
    expect(r.e.stats).toMatchObject({ broadcastTlbis: 3, commands: 0 });
    expect(r.e.stats.broadcastTlbiEntries).toBeGreaterThan(0);
    const off = warm({ btm: false });
    expect(off.e.broadcastTlbi(TlbiOp.VAE1IS, VA, 0, ASID, VMID)).toBe(-1);
    expect(off.tr().via).toBe('tlb');                         // stale until a CMD_TLBI
  });

  it('CD.ASET=1 (ASIDs not shared with the PEs): broadcasts by VA or ASID leave its IOTLB entries, by VMID remove them; asetOptOut=false removes them too', () => {
    const warmAset = (cfg: Record<string, unknown>) => {
      const r = rig(cfg);
      r.m.write(CD_PA, new Uint8Array(r.cd({ ASET: 1 }).buffer), 0, 64);
      return r;
    };
    for (const op of [TlbiOp.VAE1IS, TlbiOp.VALE1IS, TlbiOp.VAAE1IS, TlbiOp.ASIDE1IS]) {
      const r = warmAset({ btm: true });
      expect(r.tr()).toMatchObject({ status: 'ok', via: 'walk' });
      r.s1.setDescriptor(VA, 3, { lo: 0, hi: 0 });
      r.e.broadcastTlbi(op, VA, 0, ASID, VMID);
      expect([op, r.tr().via]).toEqual([op, 'tlb']);              // still the old translation
      r.submit(['TLBI_NH_VA', { ASID, VMID, Address: VA }], ['SYNC', {}]);
      expect([op, r.tr().via]).toEqual([op, 'fault']);            // a command reaches it
    }
    const all = warmAset({ btm: true });
    all.tr();
    all.s1.setDescriptor(VA, 3, { lo: 0, hi: 0 });
    all.e.broadcastTlbi(TlbiOp.VMALLE1IS, 0, 0, 0, VMID);
    expect(all.tr().via).toBe('fault');
    const off = warmAset({ btm: true, asetOptOut: false });
    off.tr();
    off.s1.setDescriptor(VA, 3, { lo: 0, hi: 0 });
    off.e.broadcastTlbi(TlbiOp.VAE1IS, VA, 0, ASID, VMID);
    expect(off.tr().via).toBe('fault');
    // ASET=0 (the other tests' CD) is reached by the same broadcast: see above.
  });

  it('SMMU_CR2.PTM=1 opts out of broadcasts', () => {
    const r = warm({ btm: true });
    r.e.mmioWrite(Reg.CR2, 4, 1 << 2);
    expect(r.e.broadcastTlbi(TlbiOp.VMALLS12E1IS, 0, 0, 0, VMID)).toBe(-1);
    expect(r.tr().via).toBe('tlb');
  });

  it('IPAS2E1IS keeps combined entries (as CMD_TLBI_S2_IPA); VMALLE1IS, ASIDE1IS and ALLE1IS remove them; VMID 0 without S2P', () => {
    for (const [op, kept] of [[TlbiOp.IPAS2E1IS, true], [TlbiOp.VMALLE1IS, false], [TlbiOp.ASIDE1IS, false], [TlbiOp.ALLE1IS, false], [TlbiOp.ALLE2IS, true]] as const) {
      const r = warm({ btm: true });
      r.e.broadcastTlbi(op, op === TlbiOp.IPAS2E1IS ? IPA : 0, 0, ASID, VMID);
      expect([op, r.tr().via]).toEqual([op, kept ? 'tlb' : 'fault']);
    }
    // Stage-1-only SMMU (S2P=0): TLB entries carry VMID 0, and so do the broadcasts it matches.
    const m = new SparseMemory({ base: 0, size: 2 ** 48, chunkBytes: 64 * 1024 });
    const e = new SmmuEngine(new StoreMemory(m), resolveSmmuConfig({ s2p: false, btm: true }));
    expect(e.broadcastTlbi(TlbiOp.VMALLE1IS, 0, 0, 0, 5)).toBe(0);
  });
});
