import { GUEST_IPA, nestedStream, ringAndWait, swAttrs } from './smmu-driver.js';
import { z } from 'zod';
import { ProgramOpSource, prog, type Program } from '../src/core/index.js';
import { defineScenario, type ScenarioContext } from '../src/platform/index.js';
import { dramAndDevice } from './regions.js';
import { NORMAL_WB_RWA_ISH } from '../src/mem/index.js';
import { PageTableBuilder } from '../src/mmu/index.js';
import {
  commandSlots, drainEvents, enableSmmu,
  type CmdFields, type CmdOpName, type DmaJobResult, type DmaJobSpec, type EventRecord, type SmmuLayout,
} from '../src/smmu/index.js';
import { UserError } from '../src/sim/index.js';

/**
 * Nested DMA (seed 004, Eric Auger's "SMMUv3 Nested Stage Setup"): the guest owns its CD table and
 * stage-1 tables in guest memory (IPAs), the host owns the stream table and stage 2 (STE Config
 * 0b111). A device DMAs through both stages. The guest then unmaps an IOVA page and reuses the
 * page it pointed at for its own data:
 * - phase 1 invalidates correctly (CMD_TLBI_NH_VA + CMD_SYNC through the command queue): the
 *   device's next write to that IOVA takes a stage-1 F_TRANSLATION (recorded, CD.R=1) and the
 *   page keeps the guest's data;
 * - phase 2 does the same with another page but forgets the invalidation (`forget`): the IOTLB
 *   still holds the combined entry, the device's write hits it and lands on the reused page.
 * IHI 0070 3.17 (TLB maintenance: the SMMU's TLBs are not invalidated by table writes) and 4.4.
 *
 * The PE runs flat: the guest's stores go to the PAs its host stage 2 gives for its IPAs (an
 * identity offset here), with Normal WB attributes; the SMMU is IO-coherent (COHACC on the
 * presets that have it), so its walks, queue reads and DMA see the PE's cached writes.
 */
const Params = z.strictObject({
  /** Phase 2 leaves out the TLBI_NH_VA + SYNC (the bug); false: both phases invalidate. */
  forget: z.boolean().default(true),
});
type P = z.infer<typeof Params>;

const SID = 4, VMID = 2, ASID = 9;
const PAGE_IPA = [GUEST_IPA + 0x40_0000, GUEST_IPA + 0x41_0000];  // the page each phase unmaps and reuses
const IOVA = [0x8000_0000, 0x8001_0000];
const PAGE = 4096;
const DEVICE_BYTE_1 = 0x11, DEVICE_BYTE_2 = 0x22, GUEST_BYTE = 0x5a;

interface Phase {
  invalidated: boolean;
  first: DmaJobResult | null; second: DmaJobResult | null;
  commandsConsumed: number; cmdqCons: number; cmdqProd: number;
}
interface Marks {
  layout: SmmuLayout; pa: (ipa: number) => number; s1: PageTableBuilder; regs: number;
  phases: Phase[]; events: EventRecord[];
}
const marks = new WeakMap<object, Marks>();
const hex = (v: number): string => `0x${v.toString(16)}`;
const WB = NORMAL_WB_RWA_ISH;

/** Runs one DMA job and waits for it (the completion interrupt, as a poll). */
function* dma(ctx: ScenarioContext<P>, spec: DmaJobSpec, out: (r: DmaJobResult) => void): Program {
  const job = ctx.sys.smmu.dma.submit(spec);
  out(job);
  while (job.status === 'queued' || job.status === 'running') yield prog.compute(64);
}

/** The guest's driver publishes commands: stores into the queue, DSB, CMDQ_PROD; the SMMU consumes them; CONS == PROD is the SYNC's completion. */
function* commands(ctx: ScenarioContext<P>, m: Marks, ph: Phase, cmds: Array<readonly [CmdOpName, CmdFields?]>): Program {
  const { engine } = ctx.sys.smmu;
  const { slots, prod } = commandSlots(engine, m.layout, cmds);
  const attrs = swAttrs(engine.config.cohacc);   // where a non-coherent SMMU reads them
  for (const s of slots) yield prog.store(s.pa, 16, s.bytes, { attrs });
  yield prog.dsb();
  const { consumed, cons } = yield* ringAndWait(ctx.sys, m.regs, prod);   // polls until CONS == PROD
  ph.commandsConsumed += consumed;
  ph.cmdqProd = prod;
  ph.cmdqCons = cons;
}

function* guest(ctx: ScenarioContext<P>, m: Marks): Program {
  for (const k of [0, 1]) {
    const ph = m.phases[k]!;
    const iova = IOVA[k]!, pagePa = m.pa(PAGE_IPA[k]!);
    // The device writes the buffer while it is mapped.
    yield* dma(ctx, { op: 'fill', streamId: SID, dst: iova, bytes: PAGE, value: DEVICE_BYTE_1, tag: `phase${k + 1}-mapped` }, (r) => { ph.first = r; });
    // The guest unmaps it: a store of an invalid descriptor into its own stage-1 leaf table.
    yield prog.store(m.pa(m.s1.slotAddress(iova, 3)), 8, 0, { attrs: swAttrs(ctx.sys.smmu.engine.config.cohacc) });
    yield prog.dsb();
    if (ph.invalidated) yield* commands(ctx, m, ph, [['TLBI_NH_VA', { VMID, ASID, Address: iova }], ['SYNC', { CS: 0 }]]);
    // ... and reuses the page for its own data.
    for (let a = 0; a < PAGE; a += 64) yield prog.store(pagePa + a, 64, new Uint8Array(64).fill(GUEST_BYTE), { attrs: WB });
    yield prog.dsb();
    // The device writes to the old IOVA again.
    yield* dma(ctx, { op: 'fill', streamId: SID, dst: iova, bytes: PAGE, value: DEVICE_BYTE_2, tag: `phase${k + 1}-unmapped` }, (r) => { ph.second = r; });
  }
}

export const scenario = defineScenario<P>({
  name: 'smmu-nested-dma',
  description: 'nested SMMU DMA (guest CD + stage 1, host STE + stage 2): unmap with TLBI_NH_VA + SYNC faults the next DMA; forgetting the TLBI lets the device write a reused page',
  platform: 'neoverse-n1',
  platformSets: ['core.count=1'],
  params: Params,
  setup(ctx) {
    const sys = ctx.sys;
    const { ram, dev } = dramAndDevice(sys, 'smmu-nested-dma', 0x200_0000);
    const { engine } = sys.smmu;
    if (!engine.config.s1p || !engine.config.s2p) throw new UserError('smmu-nested-dma needs smmu.config.s1p and s2p (nesting)');
    // The host kernel and the guest set their structures up earlier: the host's stage 2 and nested
    // STE, the guest's CD and stage 1 (mapping the two pages the phases use).
    const { layout, pa, s1 } = nestedStream(sys, ram.base, { sid: SID, vmid: VMID, asid: ASID }, { strtab: 5, cmdq: 4, evtq: 4 });
    for (const k of [0, 1]) s1.map({ va: IOVA[k]!, oa: PAGE_IPA[k]!, size: PAGE, level: 3, s1: { nG: true, ap: 0b01 } });
    enableSmmu(engine, layout);
    const phase = (invalidated: boolean): Phase => ({ invalidated, first: null, second: null, commandsConsumed: 0, cmdqCons: 0, cmdqProd: 0 });
    const m: Marks = { layout, pa, s1, regs: dev.base, phases: [phase(true), phase(!ctx.params.forget)], events: [] };
    marks.set(ctx, m);
    sys.attach(0, new ProgramOpSource(guest(ctx, m), 'guest driver'));
  },
  check(ctx, outcome) {
    const m = marks.get(ctx)!, sys = ctx.sys;
    const { engine, dma } = sys.smmu;
    m.events = drainEvents(engine, m.layout, sys.coherent);
    // The page as the guest sees it (the coherent view), and, for a non-coherent SMMU, the memory
    // behind the guest's cached copy, where the device's write went (lost at the next write-back).
    const page = (k: number): Record<string, number> => {
      const count = (view: typeof sys.coherent) => {
        const b = new Uint8Array(PAGE);
        view.read(m.pa(PAGE_IPA[k]!), b, 0, PAGE);
        let guest = 0, device = 0, first = -1;
        b.forEach((v, i) => { if (v === GUEST_BYTE) guest++; else if (v === DEVICE_BYTE_2) { device++; if (first < 0) first = i; } });
        return { guest, device, first };
      };
      const seen = count(sys.coherent), behind = engine.config.cohacc ? { device: 0, first: -1 } : count(sys.memoryAtPoC);
      const atPoC = seen.device === 0 && behind.device > 0;
      return { guestBytes: seen.guest, deviceBytes: atPoC ? behind.device : seen.device, firstDevice: atPoC ? behind.first : seen.first, atPoC: atPoC ? 1 : 0 };
    };
    const ev = (k: number): EventRecord | undefined => m.events.find((e) => e.InputAddr === BigInt(IOVA[k]!));
    const phaseCheck = (k: number): Record<string, unknown> & { pass: boolean } => {
      const ph = m.phases[k]!;
      const expected = ph.invalidated ? 'fault' : 'stale-write';
      if (ph.first === null || ph.second === null) {
        // The run stopped (--max-cycles, the watchdog) before this phase's DMA finished.
        return { pass: false, expected, invalidated: ph.invalidated, unfinished: `the run ended (${outcome.endReason}) before this phase's DMA writes were done` };
      }
      const p = page(k), e = ev(k), second = ph.second, first = ph.first;
      const faulted = second.status === 'fault' && second.bytesDone === 0;
      const staleWrite = second.status === 'done' && p.deviceBytes! > 0;
      const eventOk = e !== undefined && e.name === 'F_TRANSLATION' && e.S2 === 0 && e.CLASS === 2 && e.RnW === 0 && e.StreamID === SID;
      return {
        pass: first.status === 'done' && (ph.invalidated ? faulted && eventOk && p.guestBytes === PAGE : staleWrite && e === undefined),
        expected, invalidated: ph.invalidated,
        commands: ph.invalidated ? { consumed: ph.commandsConsumed, cmdqProd: ph.cmdqProd, cmdqCons: ph.cmdqCons } : 'none',
        mappedWrite: { status: first.status, bytes: first.bytesDone, translations: first.translations, iotlbHits: first.tlbHits, descriptorReads: first.descriptorReads, cycles: first.endCycle - first.startCycle },
        unmappedWrite: {
          status: second.status, bytes: second.bytesDone, iotlbHits: second.tlbHits, cycles: second.endCycle - second.startCycle,
          ...(second.fault !== null ? { fault: second.fault } : {}),
        },
        event: e === undefined ? 'none' : { name: e.name, StreamID: e.StreamID, S2: e.S2, CLASS: e.CLASS, RnW: e.RnW, InputAddr: hex(Number(e.InputAddr)) },
        ...(staleWrite ? {
          staleWrite: {
            iova: hex(IOVA[k]!), ipa: hex(PAGE_IPA[k]!), pa: hex(m.pa(PAGE_IPA[k]!) + p.firstDevice!), bytes: p.deviceBytes,
            wrote: hex(DEVICE_BYTE_2), overwrote: `guest data ${hex(GUEST_BYTE)}`,
            ...(p.atPoC === 1 ? { where: 'memory behind the guest\'s dirty cached copy (non-coherent SMMU)' } : {}),
          },
        } : {}),
        page: { pa: hex(m.pa(PAGE_IPA[k]!)), guestBytes: p.guestBytes, deviceBytes: p.deviceBytes },
      };
    };
    const snap = engine.statsSnapshot();
    return {
      completed: { pass: outcome.endReason === 'done', endReason: outcome.endReason },
      phase1: phaseCheck(0),
      phase2: phaseCheck(1),
      smmu: {
        pass: true,
        translations: dma.stats.translations, iotlbHits: dma.stats.tlbHits, descriptorReads: dma.stats.descriptorReads,
        translateCycles: dma.stats.translateCycles, dataCycles: dma.stats.dataCycles, dataWaitCycles: dma.stats.dataWaitCycles,
        tlbiNhVa: snap.smmu.commandsByName.CMD_TLBI_NH_VA ?? 0, syncs: snap.smmu.syncs, eventsWritten: snap.smmu.eventsWritten,
        vmidInvalidations: snap.vmids[VMID]?.invalidations ?? 0,
      },
    };
  },
});
