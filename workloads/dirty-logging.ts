import { z } from 'zod';
import { ProgramOpSource, prog, type Program } from '../src/core/index.js';
import { defineScenario, type ScenarioContext } from '../src/platform/index.js';
import { Hypervisor, type DirtyLogMode, type Memslot } from '../src/hyp/index.js';
import { UserError, zInt } from '../src/sim/index.js';
import { GUEST_RAM_HOST_OFFSET, hypervisorHost } from './regions.js';

/**
 * Dirty logging, as live migration uses it: the VMM turns on KVM_MEM_LOG_DIRTY_PAGES for guest
 * RAM, the guest runs and writes, the VMM collects the pages written since the last round
 * (KVM_GET_DIRTY_LOG / KVM_CLEAR_DIRTY_LOG) and starts the next. `hyp.dirtyLog` picks how writes
 * are recorded (src/hyp/hypervisor.ts DIRTY_LOG_MODES):
 *
 * - `wp` (KVM's way): stage 2 maps the pages without write permission, so the first write to
 *   each page in a round is a stage-2 Permission fault; the handler marks the page in the dirty
 *   bitmap and maps it writable. Collecting reads the bitmap and write-protects the dirty pages.
 * - `dbm` (FEAT_HAFDBS, VTCR_EL2.HA/HD): the pages are mapped writable-clean (DBM), the walker
 *   records the first write by setting S2AP[1] with a compare-and-swap through the caches, and the
 *   guest takes no fault; collecting reads every leaf descriptor and cleans the dirty ones.
 *
 * Either way the cleaned pages need TLBI IPAS2E1IS and VMALLE1IS with DSB, or a writable TLB
 * entry lets the next round's writes go unrecorded (`scenario.tlbi=false` shows it: pages lost
 * from the log, each one written in the round before too). What the checks hold: the log of each
 * round is exactly the set of pages the guest wrote in it; where the faults (wp) or the descriptor
 * updates (dbm) come; and the cycles each side of the trade spends (guest time, with its faults,
 * against collection time, with its scan).
 *
 * The guest runs with its MMU off under HCR_EL2.DC (hyp.cmo=hcr-dc, set by the scenario), so its
 * accesses are Normal Write-Back like a guest kernel's; guest RAM is one memslot at IPA 1 GiB.
 */
const Params = z.strictObject({
  /** Guest RAM pages under dirty logging (4 KiB each). */
  pages: zInt(1, 4096).default(64),
  /** Rounds of: the guest runs and writes, then the VMM collects the log. */
  rounds: zInt(1, 16).default(3),
  /** 8-byte stores to each page the guest writes in a round (spread over the page). */
  writesPerPage: zInt(1, 512).default(4),
  /** The TLB maintenance after cleaning the log; false shows what forgetting it loses. */
  tlbi: z.boolean().default(true),
});
type P = z.infer<typeof Params>;

const GUEST_RAM_IPA = 0x4000_0000;
const PAGE = 4096;

/** Whether the guest writes page `p` in round `r`: two pages in three, a different two each round. */
const writes = (p: number, r: number): boolean => (p + r) % 3 !== 0;

interface Round { written: number[]; logged: number[]; guestCycles: number; collectCycles: number; faults: number; walkUpdates: number }
interface Marks { hyp: Hypervisor; slot: Memslot; mode: DirtyLogMode; rounds: Round[]; guestAborts: number }
const marks = new WeakMap<object, Marks>();

function* vmm(ctx: ScenarioContext<P>, m: Marks): Program {
  const { hyp, slot } = m;
  const { pages, rounds, writesPerPage } = ctx.params;
  const q = ctx.sys.q;
  const mmuStats = ctx.sys.pes[0]!.mmu!.stats;                     // vmsa translation: the PE has an MMU
  const updates = (): number => mmuStats.walkUpdates;
  yield* hyp.hostInit();
  for (let r = 0; r < rounds; r++) {
    const faults0 = hyp.stats.s2Faults, updates0 = updates();
    yield* hyp.enterGuest();
    const t0 = q.now;
    // A booted guest has touched all of its RAM: the first round reads every page (stage 2 maps them).
    if (r === 0) for (let p = 0; p < pages; p++) if (!(yield prog.load(GUEST_RAM_IPA + p * PAGE, 8))!.ok) m.guestAborts++;
    const written: number[] = [];
    for (let p = 0; p < pages; p++) {
      if (!writes(p, r)) continue;
      written.push(p);
      for (let k = 0; k < writesPerPage; k++) {
        const at = GUEST_RAM_IPA + p * PAGE + ((k * 8 * 67) % PAGE);
        // The first store to each page waits for its result (where a fault would show), the rest stream.
        const w = yield prog.store(at, 8, ((r + 1) * 0x10000 + p) >>> 0, { wait: k === 0 });
        if (w !== undefined && !w.ok) m.guestAborts++;
      }
    }
    yield prog.dsb();
    const t1 = q.now;
    yield prog.exceptionLevel(2);                      // exit to the host: the VMM collects the log
    const logged: number[] = [];
    yield* hyp.collectDirtyLog(slot, logged, ctx.params.tlbi);
    m.rounds.push({
      written, logged: logged.map((ipa) => (ipa - GUEST_RAM_IPA) / PAGE),
      guestCycles: t1 - t0, collectCycles: q.now - t1, faults: hyp.stats.s2Faults - faults0, walkUpdates: updates() - updates0,
    });
  }
}

export const scenario = defineScenario<P>({
  name: 'dirty-logging',
  description: "live migration's dirty logging: the guest writes, the VMM collects the pages written each round; hyp.dirtyLog=wp (write-protect faults, KVM) or dbm (FEAT_HAFDBS stage-2 dirty state)",
  translation: 'vmsa',
  platformSets: ['hyp.cmo=hcr-dc'],
  params: Params,
  setup(ctx) {
    const { sys } = ctx;
    const cfg = sys.cfg;
    const mode: DirtyLogMode = cfg.hyp.dirtyLog ?? 'wp';
    if (mode === 'dbm' && cfg.mmu.features.hafdbs !== 2) {
      throw new UserError(`hyp.dirtyLog: 'dbm' needs FEAT_HAFDBS dirty state (mmu.features.hafdbs=2; got ${String(cfg.mmu.features.hafdbs ?? 0)})`);
    }
    const bytes = ctx.params.pages * PAGE;
    const ram = hypervisorHost(sys, 'dirty-logging', bytes);
    const hyp = new Hypervisor({
      store: sys.coherent,
      regions: sys.map.regions,
      caps: { featS2FWB: cfg.mmu.featS2FWB, ctrDic: cfg.cache.dic, mte: false },
      lineBytes: cfg.cache.lineBytes,
    }, { policy: cfg.hyp.policy, cmo: cfg.hyp.cmo, trapCycles: cfg.hyp.trapCycles, tablesBase: ram.base + 0x100_0000, dirtyLog: mode });
    const slot: Memslot = {
      name: 'guest-ram', ipa: GUEST_RAM_IPA, size: bytes, hostPa: ram.base + GUEST_RAM_HOST_OFFSET, logDirtyPages: true,
      vma: { pfnmap: false, mixedmap: false, io: false, allowAnyUncached: false, mteAllowed: false, cow: false, pgprot: 'normal' },
    };
    const ok = hyp.addMemslot(slot);
    if (!ok.ok) throw new UserError(`hyp.policy: '${cfg.hyp.policy}' refuses guest RAM with dirty logging (${ok.reason})`);
    const m: Marks = { hyp, slot, mode, rounds: [], guestAborts: 0 };
    marks.set(ctx, m);
    hyp.attachTo(sys.pes[0]!);
    sys.attach(0, new ProgramOpSource(vmm(ctx, m), 'vmm + vcpu0'));
  },
  check(ctx, outcome) {
    const m = marks.get(ctx)!;
    const { pages, rounds } = ctx.params;
    const rs = m.rounds;
    const same = (a: number[], b: number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
    const missed = rs.reduce((n, r) => n + r.written.filter((p) => !r.logged.includes(p)).length, 0);
    const extra = rs.reduce((n, r) => n + r.logged.filter((p) => !r.written.includes(p)).length, 0);
    const written = rs.reduce((n, r) => n + r.written.length, 0);
    // Faults each round: the first round's reads map every page; under wp every page written in
    // a round then faults once (read-only until written); under dbm nothing else faults.
    const expectFaults = (r: Round, i: number): number => (i === 0 ? pages : 0) + (m.mode === 'wp' ? r.written.length : 0);
    // Descriptor updates by the walker: under dbm one per page written in a round (its dirty state).
    const expectUpdates = (r: Round): number => (m.mode === 'dbm' ? r.written.length : 0);
    const guest = rs.reduce((n, r) => n + r.guestCycles, 0), collect = rs.reduce((n, r) => n + r.collectCycles, 0);
    // Without the TLBI a page cleaned by a collection keeps the writable TLB entry of its last
    // write, so later writes to it go unrecorded: only pages written in an earlier round can be
    // missed, and with two or more rounds some are (the TLBs hold every page here).
    const lostOnlyStale = rs.every((r, i) => r.logged.every((p) => r.written.includes(p))
      && r.written.every((p) => r.logged.includes(p) || rs.slice(0, i).some((e) => e.written.includes(p))));
    const { tlbi } = ctx.params;
    return {
      completed: { pass: outcome.endReason === 'done' && rs.length === rounds && m.guestAborts === 0, endReason: outcome.endReason, rounds: rs.length, guestAborts: m.guestAborts },
      dirtyLog: {
        pass: rs.length > 0 && (tlbi ? rs.every((r) => same(r.written, r.logged)) : lostOnlyStale && (rounds < 2 || missed > 0)),
        tlbi, predicted: tlbi ? 'every written page logged' : 'pages written again after an earlier round lost from the log (stale writable TLB entries)',
        mode: m.mode, pagesWritten: written, pagesLogged: rs.reduce((n, r) => n + r.logged.length, 0), missed, extra,
        perRound: rs.map((r) => ({ written: r.written.length, logged: r.logged.length })),
      },
      faults: {
        pass: !tlbi || rs.every((r, i) => r.faults === expectFaults(r, i)),
        perRound: rs.map((r) => r.faults), expected: rs.map(expectFaults), dirtyLogFaults: m.hyp.stats.dirtyLogFaults,
      },
      walkUpdates: { pass: !tlbi || rs.every((r) => r.walkUpdates === expectUpdates(r)), perRound: rs.map((r) => r.walkUpdates), expected: rs.map(expectUpdates) },
      // What recording the writes costs: guest time (with its faults) and collection time (with its scan).
      cycles: {
        pass: rs.every((r) => r.guestCycles > 0 && r.collectCycles > 0),
        guest: guest, collect, perWrittenPage: written === 0 ? 0 : Math.round(((guest + collect) / written) * 10) / 10,
        guestPerRound: rs.map((r) => r.guestCycles), collectPerRound: rs.map((r) => r.collectCycles),
      },
    };
  },
});
