import { GUEST_BYTES, GUEST_CD_IPA, GUEST_IPA, guestPaOf, hostLayout, ringAndWait, swAttrs } from './smmu-driver.js';
import { z } from 'zod';
import { ProgramOpSource, prog, type Program, type ProgramOp } from '../src/core/index.js';
import { defineScenario, type ScenarioContext } from '../src/platform/index.js';
import { dramAndDevice } from './regions.js';
import { DEVICE_nGnRE } from '../src/mem/index.js';
import { PageTableBuilder } from '../src/mmu/index.js';
import {
  Reg, ResumeAction, commandSlots, drainEvents, enableSmmu, encodeCd, encodeSte, writeWords,
  type CmdFields, type CmdOpName, type DmaJobResult, type EventRecord, type SmmuLayout,
} from '../src/smmu/index.js';
import { UserError } from '../src/sim/index.js';

/**
 * Every fault class of a nested (STE Config 0b111) stream, one stream per case, each checked in the
 * event queue field by field: the event type, S2, CLASS, InputAddr, IPA (S2=1), FetchAddr (fetch
 * aborts), Stall/STAG, StreamID and RnW. Seed 004; the S2/CLASS rules are those of
 * ../shared/reference/smmuv3.md §4 (QEMU smmuv3_do_translate, J-P. Brucker's CLASS review):
 * - CD fetch: the CD address is an IPA; stage 2 failing to translate it (or denying the read) is
 *   S2=1 CLASS=CD IPA=the CD's IPA. A CD fetch has no stage-1 translation, so the guest's side of
 *   a CD fetch going wrong is F_CD_FETCH (the fetch aborts at the PA stage 2 gave; FetchAddr) or
 *   C_BAD_CD (the guest's CD is not valid): neither carries S2/CLASS.
 * - Stage-1 table walk: stage 2 failing on TTB0 or on a next-level table IPA is S2=1 CLASS=TT
 *   IPA=that table's IPA; a stage-1 descriptor read that aborts is F_WALK_EABT S2=0 CLASS=TT.
 * - The input: a stage-1 translation/access/permission fault is S2=0 CLASS=IN (no IPA); stage 2
 *   failing on the output IPA is S2=1 CLASS=IN IPA=that IPA.
 * - Stalls (IHI 0070 3.12, STALL_MODEL=0): a stage-1 fault with CD.S=1 and a stage-2 fault with
 *   STE.S2S=1 are held and recorded with Stall=1 and a STAG; the guest maps the page (the host its
 *   stage 2, with TLBI_S2_IPA + SYNC), answers CMD_RESUME(StreamID, STAG, retry) + SYNC, and the
 *   held DMA completes.
 * Terminated translation-class faults are recorded because every CD has R=1 and every STE S2R=1.
 * InputAddr is always the device address (IHI 0070 7.3), IPA is bits [51:12] in place.
 *
 * The PE runs flat (guest stores go to the PAs its host stage 2 gives, an identity offset); the
 * driver's stores of commands and descriptors are Normal WB on an IO-coherent SMMU and Normal-NC
 * without COHACC (xgene1), so the SMMU reads what they wrote without a clean.
 */
const Params = z.strictObject({});
type P = z.infer<typeof Params>;

const IPA_BASE = GUEST_IPA;                                        // 16 MiB of guest RAM at IPA 1 GiB (smmu-driver.ts)
const CD_IPA = GUEST_CD_IPA;                                       // the guest's CDs, one per case (64 bytes each)
const HOLE_IPA = IPA_BASE + 0x80_0000;                             // 1 MiB that stage 2 leaves unmapped
const RO_IPA = IPA_BASE + 0x90_0000;                               // stage 2 read-only page
const NOACCESS_IPA = IPA_BASE + 0xa0_0000;                         // stage 2 S2AP=0b00 page
const EABT_IPA = IPA_BASE + 0xb0_0000;                             // stage 2 maps it to a PA no region decodes
const DATA_IPA = IPA_BASE + 0x40_0000;                             // data pages, one per case
const PAGE = 4096;
const FILL = 0xa5;
/** Longest a driver waits for a DMA job or a stall (cycles; far above any case's time). */
const WAIT_LIMIT = 2_000_000;
const IOVA_OF = (i: number): number => 0x1_0000_0000 + i * 0x4000_0000;   // one 1 GiB stage-1 slot per case

type Expect = Partial<Record<'name' | 'S2' | 'CLASS' | 'InputAddr' | 'IPA' | 'FetchAddr' | 'Stall' | 'STAG' | 'StreamID' | 'RnW', string | number>>;

interface CaseDef {
  name: string;
  /** Why the case faults (carried into the check). */
  what: string;
  write: boolean;
  stall?: 's1' | 's2';
}

/** Cases in run order; StreamID = index + 1. Stall cases run last (they change the tables). */
const CASES: readonly CaseDef[] = [
  { name: 'cd-s2-translation', what: 'STE.S1ContextPtr is an IPA stage 2 does not map', write: true },
  { name: 'cd-s2-permission', what: 'the CD lies in a page stage 2 maps with S2AP=0b00 (a CD fetch is a data read)', write: true },
  { name: 'cd-fetch-abort', what: 'stage 2 maps the CD IPA to a PA no region decodes: the read of the CD aborts', write: true },
  { name: 'cd-bad', what: 'the guest CD has V=0', write: true },
  { name: 'tt-s2-ttb', what: 'CD.TTB0 is an IPA stage 2 does not map', write: true },
  { name: 'tt-s2-next-table', what: 'a stage-1 level-1 table descriptor points at a level-2 table IPA stage 2 does not map', write: true },
  { name: 'tt-s1-walk-abort', what: 'a stage-1 level-2 table IPA that stage 2 maps to a PA no region decodes', write: true },
  { name: 'in-s1-translation', what: 'the IOVA has no stage-1 mapping (read)', write: false },
  { name: 'in-s1-access-flag', what: 'the stage-1 leaf has AF=0', write: true },
  { name: 'in-s1-permission', what: 'a write to a stage-1 read-only page (AP=0b11)', write: true },
  { name: 'in-s2-translation', what: 'stage 1 maps the IOVA to an IPA stage 2 does not map', write: true },
  { name: 'in-s2-permission', what: 'a write to an IPA stage 2 maps read-only', write: true },
  { name: 'stall-s1', what: 'CD.S=1 and the IOVA has no stage-1 mapping: stalled; the guest maps it and resumes with retry', write: true, stall: 's1' },
  { name: 'stall-s2', what: 'STE.S2S=1 and stage 1 points at an IPA stage 2 does not map: stalled; the host maps it and resumes with retry', write: true, stall: 's2' },
];

interface CaseRun {
  job: DmaJobResult | null;
  events: EventRecord[];
  expect: Expect;
  stallsBefore: number;
  resume?: { stag: number; commandsConsumed: number; cmdqCons: number; cmdqProd: number };
  /** Bytes of FILL in the data page after the case (stall cases). */
  filled?: number;
}
interface Marks {
  layout: SmmuLayout; attrs: number; pa: (ipa: number) => number; badPa: number; s1: PageTableBuilder; s2: PageTableBuilder; regs: number;
  runs: CaseRun[];
}
const marks = new WeakMap<object, Marks>();
const hex = (v: number | bigint): string => `0x${v.toString(16)}`;
const descValue = (d: { lo: number; hi: number }): bigint => (BigInt(d.hi >>> 0) << 32n) | BigInt(d.lo >>> 0);
const pageOf = (a: number): number => a - (a % PAGE);

/** The guest (or host) driver publishes commands and the SMMU consumes them; CONS == PROD is the SYNC's completion. */
function* commands(ctx: ScenarioContext<P>, m: Marks, cmds: Array<readonly [CmdOpName, CmdFields?]>): Generator<ProgramOp, { consumed: number; cons: number; prod: number }, unknown> {
  const { engine } = ctx.sys.smmu;
  const { slots, prod } = commandSlots(engine, m.layout, cmds);
  for (const s of slots) yield prog.store(s.pa, 16, s.bytes, { attrs: m.attrs });
  yield prog.dsb();
  const { consumed, cons } = yield* ringAndWait(ctx.sys, m.regs, prod);
  return { consumed, cons, prod };
}

/** The event-queue interrupt handler, as a poll: what arrived since the last drain. */
function* readEvents(ctx: ScenarioContext<P>, m: Marks): Generator<ProgramOp, EventRecord[], unknown> {
  yield prog.load(m.regs + Reg.EVENTQ_PROD, 4, { attrs: DEVICE_nGnRE });
  return drainEvents(ctx.sys.smmu.engine, m.layout, ctx.sys.coherent);
}

function* driver(ctx: ScenarioContext<P>, m: Marks): Program {
  const { dma, engine } = ctx.sys.smmu;
  for (let i = 0; i < CASES.length; i++) {
    const c = CASES[i]!, run = m.runs[i]!, sid = i + 1, iova = IOVA_OF(i);
    run.stallsBefore = engine.stats.stalls;
    const job = dma.submit(c.write
      ? { op: 'fill', streamId: sid, dst: iova, bytes: 256, value: FILL, tag: c.name }
      : { op: 'checksum', streamId: sid, src: iova, bytes: 256, tag: c.name });
    run.job = job;
    if (c.stall === undefined) {
      yield* waitFor(ctx, job);
      run.events = yield* readEvents(ctx, m);
      continue;
    }
    // Stalled: the event arrives, the driver fixes the table the event names, then resumes.
    yield* waitFor(ctx, job, true);
    run.events = yield* readEvents(ctx, m);
    const ev = run.events[0];
    if (ev === undefined || ev.Stall !== 1) {
      // Nothing to resume: terminate whatever is held so the run ends, and let the check say why.
      yield* commands(ctx, m, [['STALL_TERM', { StreamID: sid }], ['SYNC', { CS: 0 }]]);
    } else {
      const dataIpa = c.stall === 's1' ? DATA_IPA + i * PAGE : HOLE_IPA + 0x8000;
      if (c.stall === 's1') {
        // The guest's fault handler maps the page: one store of the leaf into its existing level-3 table.
        const slot = m.s1.slotAddress(iova, 3);
        yield prog.store(m.pa(slot), 8, descValue(m.s1.leaf(dataIpa, 3, { s1: { nG: true, ap: 0b01 } })), { attrs: m.attrs });
        yield prog.dsb();
      } else {
        // The host maps the IPA (a new level-3 table, zeroed, then the leaf), then invalidates stage 2 for it.
        const slot = m.s2.slotAddress(dataIpa, 3);
        yield prog.store(slot, 8, descValue(m.s2.leaf(m.pa(dataIpa), 3, { s2: {} })), { attrs: m.attrs });
        yield prog.dsb();
        yield* commands(ctx, m, [['TLBI_S2_IPA', { VMID: 10 + i, IPA: dataIpa }], ['SYNC', { CS: 0 }]]);
      }
      const r = yield* commands(ctx, m, [['RESUME', { StreamID: sid, STAG: ev.STAG, Action: ResumeAction.Retry }], ['SYNC', { CS: 0 }]]);
      run.resume = { stag: ev.STAG, commandsConsumed: r.consumed, cmdqCons: r.cons, cmdqProd: r.prod };
    }
    yield* waitFor(ctx, job);
    if (job.status === 'running' && job.stalls > 0) {
      // Still held (the RESUME did not reach the transaction): terminate it so the run ends; the check names it.
      yield* commands(ctx, m, [['STALL_TERM', { StreamID: sid }], ['SYNC', { CS: 0 }]]);
      yield* waitFor(ctx, job);
    }
    run.events.push(...(yield* readEvents(ctx, m)));
  }
}

/** Polls until the job ends (or, for a stall, `stalled` says stop), at most WAIT_LIMIT cycles. */
function* waitFor(ctx: ScenarioContext<P>, job: DmaJobResult, stalled = false): Generator<ProgramOp, void, unknown> {
  const t0 = ctx.sys.q.now;
  while ((job.status === 'queued' || job.status === 'running') && !(stalled && job.stalls > 0) && ctx.sys.q.now - t0 < WAIT_LIMIT) yield prog.compute(64);
}

export const scenario = defineScenario<P>({
  name: 'smmu-faults',
  description: 'every nested SMMU fault class (stage 1 / stage 2 on CD fetch, table walk and input) lands in the event queue with the right S2/CLASS/IPA; stalled faults resumed with retry',
  platform: 'neoverse-n1',
  platformSets: ['core.count=1'],
  params: Params,
  setup(ctx) {
    const sys = ctx.sys;
    const { ram, dev } = dramAndDevice(sys, 'smmu-faults', 0x200_0000);
    const { engine } = sys.smmu;
    if (!engine.config.s1p || !engine.config.s2p) throw new UserError('smmu-faults needs smmu.config.s1p and s2p (nesting)');
    if (engine.config.stallModel === 1) throw new UserError('smmu-faults needs a stall-capable SMMU (smmu.config.stallModel 0 or 2, not 1)');
    if (engine.config.termModel === 1) throw new UserError('smmu-faults needs smmu.config.termModel=0 (its CDs use A=1 but check the recorded aborts)');
    // A PA no region decodes, for the fetch-abort cases.
    const badPa = [0x1000_0000, 0x2000_0000, 0x1_0000_0000, 0x10_0000_0000, 0].find((a) => sys.map.find(a, PAGE) < 0);
    if (badPa === undefined) throw new UserError('smmu-faults needs a PA hole below 64 GiB (every candidate decodes)');
    const R = ram.base, pa = guestPaOf(R), GUEST_PA = pa(IPA_BASE);
    const layout = hostLayout(sys, R, { strtab: 5, cmdq: 4, evtq: 5 });
    const store = sys.coherent;
    // Host stage 2: guest RAM with a hole, a read-only page, a no-access page and a page over nothing.
    const s2 = new PageTableBuilder(store, { stage: 2, granule: '4K', inputBits: 48, startLevel: 0, allocBase: R + 0x40_0000, allocLimit: R + 0x50_0000 });
    s2.map({ va: IPA_BASE, oa: GUEST_PA, size: HOLE_IPA - IPA_BASE, s2: {} });
    s2.map({ va: RO_IPA, oa: pa(RO_IPA), size: PAGE, level: 3, s2: { s2ap: 0b01 } });
    s2.map({ va: NOACCESS_IPA, oa: pa(NOACCESS_IPA), size: PAGE, level: 3, s2: { s2ap: 0b00 } });
    s2.map({ va: EABT_IPA, oa: badPa, size: PAGE, level: 3, s2: {} });
    s2.map({ va: IPA_BASE + 0xc0_0000, oa: pa(IPA_BASE + 0xc0_0000), size: GUEST_BYTES - 0xc0_0000, s2: {} });
    // Guest stage 1, in its own memory (IPAs); each case has its own 1 GiB slot of IOVA.
    const s1 = new PageTableBuilder(store, { stage: 1, granule: '4K', inputBits: 48, allocBase: IPA_BASE + 0x10_0000, allocLimit: IPA_BASE + 0x20_0000, physOf: pa });
    const runs: CaseRun[] = [];
    for (let i = 0; i < CASES.length; i++) {
      const c = CASES[i]!, sid = i + 1, vmid = 10 + i, asid = 20 + i, iova = IOVA_OF(i), data = DATA_IPA + i * PAGE;
      let cdIpa = CD_IPA + i * 64, ttb0 = s1.root, cdV = 1;
      const e: Expect = { StreamID: sid };
      const transl = (name: string, s2bit: number, cls: 'CD' | 'TT' | 'IN', ipa?: number): void => {
        Object.assign(e, { name, S2: s2bit, CLASS: cls, InputAddr: hex(iova), RnW: c.write ? 0 : 1, Stall: 0 });
        if (ipa !== undefined) e.IPA = hex(pageOf(ipa));
      };
      switch (c.name) {
        case 'cd-s2-translation': cdIpa = HOLE_IPA + 0x40; transl('F_TRANSLATION', 1, 'CD', cdIpa); break;
        case 'cd-s2-permission': cdIpa = NOACCESS_IPA + 0x40; transl('F_PERMISSION', 1, 'CD', cdIpa); break;
        case 'cd-fetch-abort': cdIpa = EABT_IPA + 0x40; Object.assign(e, { name: 'F_CD_FETCH', FetchAddr: hex(badPa + 0x40) }); break;
        case 'cd-bad': cdV = 0; e.name = 'C_BAD_CD'; break;
        case 'tt-s2-ttb': ttb0 = HOLE_IPA; transl('F_TRANSLATION', 1, 'TT', HOLE_IPA); break;
        case 'tt-s2-next-table':
          s1.setDescriptor(iova, 1, { lo: HOLE_IPA + 0x2000 + 3, hi: 0 });
          transl('F_TRANSLATION', 1, 'TT', HOLE_IPA + 0x2000);
          break;
        case 'tt-s1-walk-abort':
          s1.setDescriptor(iova, 1, { lo: EABT_IPA + 3, hi: 0 });
          transl('F_WALK_EABT', 0, 'TT');
          e.FetchAddr = hex(badPa + s1.index(iova, 2) * 8);
          break;
        case 'in-s1-translation': s1.map({ va: iova + PAGE, oa: data, size: PAGE, level: 3, s1: { nG: true, ap: 0b01 } }); transl('F_TRANSLATION', 0, 'IN'); break;
        case 'in-s1-access-flag': s1.map({ va: iova, oa: data, size: PAGE, level: 3, s1: { nG: true, ap: 0b01, af: false } }); transl('F_ACCESS', 0, 'IN'); break;
        case 'in-s1-permission': s1.map({ va: iova, oa: data, size: PAGE, level: 3, s1: { nG: true, ap: 0b11 } }); transl('F_PERMISSION', 0, 'IN'); break;
        case 'in-s2-translation': s1.map({ va: iova, oa: HOLE_IPA + 0x5000, size: PAGE, level: 3, s1: { nG: true, ap: 0b01 } }); transl('F_TRANSLATION', 1, 'IN', HOLE_IPA + 0x5000); break;
        case 'in-s2-permission': s1.map({ va: iova, oa: RO_IPA, size: PAGE, level: 3, s1: { nG: true, ap: 0b01 } }); transl('F_PERMISSION', 1, 'IN', RO_IPA); break;
        case 'stall-s1':
          // The neighbouring page is mapped, so the level-3 table the guest will fix exists.
          s1.map({ va: iova + PAGE, oa: data, size: PAGE, level: 3, s1: { nG: true, ap: 0b01 } });
          transl('F_TRANSLATION', 0, 'IN');
          e.Stall = 1;
          break;
        case 'stall-s2':
          s1.map({ va: iova, oa: HOLE_IPA + 0x8000, size: PAGE, level: 3, s1: { nG: true, ap: 0b01 } });
          transl('F_TRANSLATION', 1, 'IN', HOLE_IPA + 0x8000);
          e.Stall = 1;
          break;
        default: throw new Error(`smmu-faults: no set-up for case ${c.name}`);
      }
      writeWords(store, layout.strtab + sid * 64, encodeSte({
        V: 1, Config: 7, S1ContextPtr: cdIpa, S1CIR: 1, S1COR: 1, S1CSH: 3,
        S2VMID: vmid, S2T0SZ: 16, S2SL0: 2, S2IR0: 1, S2OR0: 1, S2SH0: 3, S2TG: 0, S2PS: 5, S2AA64: 1, S2R: 1, S2S: c.stall === 's2' ? 1 : 0, S2TTB: s2.root,
      }));
      // CDs in an unmapped or aborting IPA are never read; the others go in the guest's CD page.
      if (cdIpa >= CD_IPA && cdIpa < CD_IPA + PAGE) {
        writeWords(store, pa(cdIpa), encodeCd({
          T0SZ: 16, TG0: 0, IR0: 1, OR0: 1, SH0: 3, EPD1: 1, V: cdV, IPS: 5, AA64: 1, R: 1, A: 1, S: c.stall === 's1' ? 1 : 0, ASID: asid, TTB0: ttb0, MAIR0: 0xff,
        }));
      }
      if (c.name === 'cd-s2-permission') {
        // The CD is there (a valid one): only stage 2's permission stops the fetch.
        writeWords(store, pa(cdIpa), encodeCd({ T0SZ: 16, TG0: 0, IR0: 1, OR0: 1, SH0: 3, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: asid, TTB0: ttb0, MAIR0: 0xff }));
      }
      runs.push({ job: null, events: [], expect: e, stallsBefore: 0 });
    }
    enableSmmu(engine, layout);
    const m: Marks = { layout, attrs: swAttrs(engine.config.cohacc), pa, badPa, s1, s2, regs: dev.base, runs };
    marks.set(ctx, m);
    sys.attach(0, new ProgramOpSource(driver(ctx, m), 'guest and host drivers'));
  },
  check(ctx, outcome) {
    const m = marks.get(ctx)!, sys = ctx.sys;
    const { engine } = sys.smmu;
    const out: Record<string, Record<string, unknown> & { pass: boolean }> = {
      completed: { pass: outcome.endReason === 'done', endReason: outcome.endReason },
    };
    let failures = 0;
    for (let i = 0; i < CASES.length; i++) {
      const c = CASES[i]!, run = m.runs[i]!, job = run.job;
      const expected: Expect = { ...run.expect };
      if (c.stall !== undefined) expected.STAG = run.stallsBefore;     // STAGs count up from 0 in this model (any unique value is architectural)
      const ev = run.events[0];
      const found: Expect = {};
      const mismatches: string[] = [];
      if (run.events.length !== 1) mismatches.push(`events: found ${run.events.length}, expected 1`);
      if (ev !== undefined) {
        for (const k of Object.keys(expected) as Array<keyof Expect>) {
          const v = k === 'name' ? ev.name : k === 'CLASS' ? (['CD', 'TT', 'IN'][ev.CLASS] ?? ev.CLASS)
            : k === 'InputAddr' ? hex(ev.InputAddr) : k === 'IPA' ? hex(ev.IPA) : k === 'FetchAddr' ? hex(ev.FetchAddr) : ev[k];
          found[k] = v as string | number;
          if (v !== expected[k]) mismatches.push(`${k}: found ${String(v)}, expected ${String(expected[k])}`);
        }
      }
      // Strings, so that `armsim run` without --json shows them too.
      const dma = job === null ? 'not run'
        : `${job.status}, ${job.bytesDone} bytes, ${job.stalls} stalls, ${job.translations} translations, ${job.descriptorReads} descriptor reads`
          + (job.fault !== null ? `, ${job.fault.event} at ${job.fault.iova}` : '');
      const fmt = (x: Expect): string => Object.entries(x).map(([k, v]) => (k === 'name' ? String(v) : `${k}=${String(v)}`)).join(' ');
      if (c.stall === undefined) {
        if (job === null || job.status !== 'fault' || job.bytesDone !== 0) mismatches.push(`dma: ${job?.status ?? 'not run'} with ${job?.bytesDone ?? 0} bytes, expected a fault before any data`);
      } else {
        // The retried DMA completes and its data is in the page the driver mapped.
        const b = new Uint8Array(256);
        const dataIpa = c.stall === 's1' ? DATA_IPA + i * PAGE : HOLE_IPA + 0x8000;
        sys.coherent.read(m.pa(dataIpa), b, 0, 256);
        run.filled = b.filter((x) => x === FILL).length;
        if (run.resume === undefined) mismatches.push('resume: no stalled event to resume');
        if (job === null || job.status !== 'done' || job.bytesDone !== 256 || job.stalls !== 1) mismatches.push(`dma: ${job?.status ?? 'not run'} with ${job?.bytesDone ?? 0} bytes and ${job?.stalls ?? 0} stalls, expected done with 256 after 1 stall`);
        if (run.filled !== 256) mismatches.push(`data: ${run.filled} of 256 bytes filled in the mapped page`);
        if (run.resume !== undefined && run.resume.cmdqCons !== run.resume.cmdqProd) mismatches.push(`resume: CMDQ_CONS ${hex(run.resume.cmdqCons)} != PROD ${hex(run.resume.cmdqProd)}`);
      }
      if (mismatches.length > 0) failures++;
      out[c.name] = {
        pass: mismatches.length === 0, streamId: i + 1, what: c.what,
        event: fmt(found), expectedEvent: fmt(expected), mismatches: mismatches.length === 0 ? 'none' : mismatches.join('; '), dma, expected, found,
        ...(run.resume !== undefined ? { resume: run.resume, filledBytes: run.filled } : {}),
        ...(run.events.length > 1 ? { extraEvents: run.events.slice(1).map((e) => e.name) } : {}),
      };
    }
    const snap = engine.statsSnapshot().smmu;
    out.eventQueue = {
      pass: snap.eventsOverflowed === 0 && snap.eventsDiscarded === 0 && failures === 0,
      cases: CASES.length, failedCases: failures, eventsWritten: snap.eventsWritten, eventsSuppressed: snap.eventsSuppressed,
      eventsOverflowed: snap.eventsOverflowed, stalls: snap.stalls, resumes: snap.resumes, syncs: snap.syncs, commandErrors: snap.commandErrors,
    };
    return out;
  },
});
