import { describe, expect, it } from 'vitest';
import { ID_AA64ISAR0_EL1, ID_AA64ISAR1_EL1, ProgramOpSource, prog, type OpResult, type Program } from '../core/index.js';
import { DEVICE_nGnRE, NORMAL_NC_OSH, NORMAL_WB_RWA_ISH, NORMAL_WB_RWA_NSH } from '../mem/index.js';
import { buildSystem } from '../platform/test-helpers.js';
import type { System } from '../platform/system.js';
import { SysReg, sysRegId } from './id-regs.js';
import { STATE_DIRTY } from './tag-array.js';

const RAM = 0x80_0000_0000;
/** The first DRAM region's base on a platform (X-Gene's RAM is elsewhere). */
const ramOf = (sys: System): number => sys.map.regions.find((r) => r.kind === 'dram')!.base;
const NC = NORMAL_NC_OSH;
const WB = NORMAL_WB_RWA_ISH;

function run(preset: string, sets: string[], ...programs: ((sys: System) => Program)[]) {
  const sys = buildSystem(preset, [`core.count=${Math.max(1, programs.length)}`, ...sets]);
  programs.forEach((p, i) => sys.attach(i, new ProgramOpSource(p(sys), `p${i}`)));
  const out = sys.run({ watchdogCycles: 500_000 });
  return { sys, out };
}

/** A stat by dotted path from the stats tree. */
function stat(sys: System, path: string): number {
  let node: unknown = sys.stats.toTree();
  for (const k of path.split('.')) node = (node as Record<string, unknown>)[k];
  const v = (node as { value?: number }).value ?? node;
  if (typeof v !== 'number') throw new Error(`no stat ${path}`);
  return v;
}

describe('cache hierarchy: data and latency on one PE', () => {
  it('a load after a store hits in the L1D and returns the stored bytes', () => {
    let r: OpResult | undefined;
    const { sys, out } = run('neoverse-n1', [], function* () {
      yield prog.store(RAM + 0x40, 8, 0x1234_5678_9a, { attrs: WB });
      r = yield prog.load(RAM + 0x40, 8, { attrs: WB });
    });
    expect(out.endReason).toBe('done');
    expect(r!.value).toBe(0x1234_5678_9a);
    expect(stat(sys, 'system.cpu0.l1d.writeMisses')).toBe(1);
    expect(stat(sys, 'system.cpu0.l1d.readHits')).toBe(1);
    // The data sits dirty in the L1D: memory still has zeros.
    expect(sys.caches.whereIs(RAM + 0x40)).toContain('system.cpu0.l1d dirty');
    expect(sys.caches.readMemory(RAM + 0x40, 8).every((b) => b === 0)).toBe(true);
  });

  it('an L1D hit costs the configured L1D hit latency; an L2 hit costs the L1D tag plus L2 hit latency', () => {
    const times: number[] = [];
    const { sys } = run('neoverse-n1', ['cache.l1d.hitLatency=5', 'cache.l1d.tagLatency=2', 'cache.l2.hitLatency=13'], function* (s) {
      yield prog.load(RAM, 8, { attrs: WB });                // miss: the line comes from memory
      let t0 = s.q.now;
      yield prog.load(RAM + 8, 8, { attrs: WB });            // L1D hit
      times.push(s.q.now - t0);
      // Evict RAM from the 4-way L1D (same set: stride = sets * line = 16 KiB) but not from the 8-way L2.
      for (let i = 1; i <= 4; i++) yield prog.load(RAM + i * 16384, 8, { attrs: WB });
      t0 = s.q.now;
      yield prog.load(RAM + 16, 8, { attrs: WB });           // L2 hit
      times.push(s.q.now - t0);
    });
    void sys;
    expect(times).toEqual([5, 2 + 13]);
  });
});

describe('cache hierarchy: coherence between PEs', () => {
  it('a PE reads what another PE wrote through its cache (snooped from the writer, MOESI keeps it dirty-shared)', () => {
    let seen: OpResult | undefined;
    const { sys, out } = run('neoverse-n1', [],
      function* () {
        yield prog.store(RAM + 0x1000, 8, 0xabcdef, { attrs: WB });
        yield prog.dsb();
        yield prog.store(RAM + 0x2000, 4, 1, { attrs: WB });
      },
      function* () {
        yield* prog.spinUntil(RAM + 0x2000, 4, (r) => r.value === 1, { attrs: WB });
        seen = yield prog.load(RAM + 0x1000, 8, { attrs: WB });
      });
    expect(out.endReason).toBe('done');
    expect(seen!.value).toBe(0xabcdef);
    expect(stat(sys, 'system.cpu0.l2.snoopsReceived')).toBeGreaterThan(0);
    // Still not in memory: the writer's copy is the owner (O), the reader's is shared.
    expect(sys.caches.readMemory(RAM + 0x1000, 8).every((b) => b === 0)).toBe(true);
  });

  it('under MESI the snooped dirty line is written back and both copies are clean', () => {
    const { sys } = run('neoverse-n1', ['cache.protocol=mesi', 'cache.l3.kind=none'],
      function* () {
        yield prog.store(RAM + 0x1000, 8, 77, { attrs: WB });
        yield prog.dsb();
        yield prog.store(RAM + 0x2000, 4, 1, { attrs: WB });
      },
      function* () {
        yield* prog.spinUntil(RAM + 0x2000, 4, (r) => r.value === 1, { attrs: WB });
        yield prog.load(RAM + 0x1000, 8, { attrs: WB });
      });
    expect(sys.caches.readMemory(RAM + 0x1000, 1)[0]).toBe(77);
  });

  it('two PEs incrementing disjoint words of one line both keep their updates (the line moves with its data)', () => {
    let a: OpResult | undefined, b: OpResult | undefined;
    const { out } = run('neoverse-n1', [],
      function* () { for (let i = 1; i <= 50; i++) { yield prog.store(RAM + 0x3000, 4, i, { attrs: WB }); yield prog.compute(3); } yield prog.dsb(); a = yield prog.load(RAM + 0x3004, 4, { attrs: WB }); },
      function* () { for (let i = 1; i <= 50; i++) { yield prog.store(RAM + 0x3004, 4, 1000 + i, { attrs: WB }); yield prog.compute(5); } yield prog.dsb(); b = yield prog.load(RAM + 0x3000, 4, { attrs: WB }); });
    expect(out.endReason).toBe('done');
    // Each PE finally sees the other's last value or an earlier one it wrote, never a torn mix; after both finish the line holds both.
    expect(a!.value).toBeGreaterThan(1000);
    expect(b!.value).toBeGreaterThan(0);
  });

  it('a shared L2 (X-Gene pairs) serves the sibling from the L2 with the dirty L1D data folded in', () => {
    let seen: OpResult | undefined;
    const { sys, out } = run('xgene1', ['cache.l2.clusterSize=2'],
      function* (s) {
        yield prog.store(ramOf(s) + 0x40, 8, 0x5151, { attrs: WB });
        yield prog.dsb();
        yield prog.store(ramOf(s) + 0x80, 4, 1, { attrs: WB });
      },
      function* (s) {
        yield* prog.spinUntil(ramOf(s) + 0x80, 4, (r) => r.value === 1, { attrs: WB });
        seen = yield prog.load(ramOf(s) + 0x40, 8, { attrs: WB });
      });
    expect(out.endReason).toBe('done');
    expect(seen!.value).toBe(0x5151);
    expect(stat(sys, 'system.cpu0.l1d.snoopsReceived')).toBeGreaterThan(0);
  });
});

describe('cache hierarchy: non-cacheable aliases', () => {
  it('a Non-cacheable read does not see data dirty in a cache, and a later write-back overwrites newer NC data', () => {
    let ncSeen: OpResult | undefined, after: OpResult | undefined;
    const { out } = run('neoverse-n1', ['cache.l3.kind=none'], function* () {
      yield prog.store(RAM + 0x100, 8, 1111, { attrs: WB });          // dirty in the L1D
      ncSeen = yield prog.load(RAM + 0x100, 8, { attrs: NC });         // goes around the caches: stale zeros
      yield prog.store(RAM + 0x100, 8, 2222, { attrs: NC, wait: true }); // NC write lands in memory
      yield prog.dc('civac', RAM + 0x100, { attrs: WB });             // the dirty line is written back...
      yield prog.dsb();
      after = yield prog.load(RAM + 0x100, 8, { attrs: NC });          // ...over the NC data
    });
    expect(out.endReason).toBe('done');
    expect(ncSeen!.value).toBe(0);
    expect(after!.value).toBe(1111);
  });
});

describe('DC CVAP and the point of persistence', () => {
  /** Stores to a line, runs `ops` on it (each followed by a DSB), and reports what memory and the SLC hold and the DSB-to-DSB cycles. */
  const persist = (sets: string[], ops: ('cvac' | 'cvap')[]) => {
    const cycles: number[] = [];
    const { sys } = run('neoverse-n1', sets, function* (s) {
      const a = ramOf(s) + 0x3000;
      yield prog.store(a, 8, 0x5a5a, { attrs: WB });
      yield prog.dsb();
      for (const op of ops) {
        const t0 = s.q.now;
        yield prog.dc(op, a, { attrs: WB });
        yield prog.dsb();
        cycles.push(s.q.now - t0);
      }
    });
    const a = ramOf(sys) + 0x3000, l3 = sys.caches.l3!;
    const s3 = l3.arr.lookup(Math.floor(a / 64));
    return { memory: sys.caches.readMemory(a, 1)[0], slcDirty: s3 >= 0 && (l3.arr.state[s3]! & STATE_DIRTY) !== 0 ? 'dirty' : s3 >= 0 ? 'clean' : 'absent', cycles };
  };

  it('by default the PoC is the point of persistence: DC CVAP leaves the line dirty in the system cache, as DC CVAC does', () => {
    const r = persist([], ['cvap']);
    expect([r.memory, r.slcDirty]).toEqual([0, 'dirty']);
  });

  it('on a region whose point of persistence is memory, DC CVAP cleans the system cache too and its DSB waits for memory', () => {
    const pm = ['memory.regions.ram.pointOfPersistence=memory'];
    const r = persist(pm, ['cvap']);
    expect([r.memory, r.slcDirty]).toEqual([0x5a, 'clean']);
    expect(r.cycles[0]!).toBeGreaterThan(persist([], ['cvap']).cycles[0]!);
    // DC CVAC still stops at the PoC; a DC CVAP after it finds the dirty line in the system cache only.
    const c = persist(pm, ['cvac']);
    expect([c.memory, c.slcDirty]).toEqual([0, 'dirty']);
    const cp = persist(pm, ['cvac', 'cvap']);
    expect([cp.memory, cp.slcDirty]).toEqual([0x5a, 'clean']);
  });

  it('a bad pointOfPersistence is a one-line config error naming the key', () => {
    expect(() => buildSystem('neoverse-n1', ['memory.regions.ram.pointOfPersistence=pmem'])).toThrow(/pointOfPersistence/);
  });
});

describe('cache maintenance reach', () => {
  const fill = (base: number, n: number) => function* (): Program {
    for (let i = 0; i < n; i++) yield prog.store(base + i * 64, 8, 0x1000 + i, { attrs: WB });
    yield prog.dsb();
  };

  function setWayAll(sys: System): Program {
    return (function* () {
      const c = sys.cfg.cache;
      for (const [level, l] of [[1, c.l1d], [2, c.l2]] as const) {
        const sets = l.sizeBytes / (l.ways * c.lineBytes);
        for (let set = 0; set < sets; set++) for (let way = 0; way < l.ways; way++) {
          yield prog.dcSetWay('cisw', prog.setWayOperand(level, set, way, { ways: l.ways, lineBytes: c.lineBytes }));
        }
      }
      yield prog.dsb();
    })();
  }

  function staleAfter(preset: string, strategy: 'set-way' | 'va', lines: number): { stale: number; where: string[]; sys: System } {
    let stale = 0;
    const { sys, out } = run(preset, [`core.count=${preset === 'xgene1' ? 2 : 1}`], (s) => (function* () {
      const base = ramOf(s);
      yield* fill(base, lines)();
      if (strategy === 'set-way') yield* setWayAll(s);
      else { for (let i = 0; i < lines; i++) yield prog.dc('civac', base + i * 64, { attrs: WB }); yield prog.dsb(); }
      for (let i = 0; i < lines; i++) {
        const r = (yield prog.load(base + i * 64, 8, { attrs: NC }))!;
        if (r.value !== 0x1000 + i) stale++;
      }
    })());
    expect(out.endReason).toBe('done');
    return { stale, where: sys.caches.whereIs(ramOf(sys)), sys };
  }

  it('on xgene1, DC CISW over every set/way leaves the data dirty in the before-poc L3: a NC reader sees stale data', () => {
    const r = staleAfter('xgene1', 'set-way', 32);
    expect(r.stale).toBe(32);
    expect(r.where).toEqual(['system.l3 dirty']);
  });

  it('on xgene1, DC CIVAC by VA cleans through the L3 to memory: no stale data', () => {
    const r = staleAfter('xgene1', 'va', 32);
    expect(r.stale).toBe(0);
    expect(r.where).toEqual([]);
  });

  it('on neoverse-n1 (system cache at the PoC), set/way is enough', () => {
    expect(staleAfter('neoverse-n1', 'set-way', 32).stale).toBe(0);
  });

  it('DC CIVAC on a shareable line reaches another PE\'s cache; on a Non-shareable line it does not', () => {
    const results: number[] = [];
    for (const attrs of [WB, NORMAL_WB_RWA_NSH]) {
      let r: OpResult | undefined;
      run('neoverse-n1', ['cache.l3.kind=none'],
        function* () { yield prog.store(RAM + 0x400, 8, 99, { attrs }); yield prog.dsb(); yield prog.store(RAM + 0x800, 4, 1, { attrs: NC, wait: true }); },
        function* () {
          yield* prog.spinUntil(RAM + 0x800, 4, (x) => x.value === 1, { attrs: NC });
          yield prog.dc('civac', RAM + 0x400, { attrs });
          yield prog.dsb();
          r = yield prog.load(RAM + 0x400, 8, { attrs: NC });
        });
      results.push(r!.value);
    }
    expect(results).toEqual([99, 0]);
  });

  it('DC ZVA on Device memory is an Alignment fault and writes nothing', () => {
    let r: OpResult | undefined, after: OpResult | undefined;
    run('neoverse-n1', [], function* () {
      yield prog.store(RAM + 0x1040, 8, 0x77, { attrs: NC, wait: true });
      r = yield prog.dc('zva', RAM + 0x1040, { attrs: 0 /* Device-nGnRnE */, wait: true });
      after = yield prog.load(RAM + 0x1040, 8, { attrs: NC });
    });
    expect(r!.fault).toBe('alignment');
    expect(after!.value).toBe(0x77);
  });

  it('DC ZVA zeroes a whole block in the cache', () => {
    let r: OpResult | undefined;
    run('neoverse-n1', [], function* () {
      yield prog.store(RAM + 0x1010, 8, 0xffff, { attrs: WB });
      yield prog.dc('zva', RAM + 0x1010, { attrs: WB });
      r = yield prog.load(RAM + 0x1010, 8, { attrs: WB });
    });
    expect(r!.value).toBe(0);
  });

  it('maintenance costs cycles and is counted per level; DSB waits for it', () => {
    const { sys } = run('xgene1', ['core.count=2'], (s) => (function* () {
      yield* fill(ramOf(s), 8)();
      for (let i = 0; i < 8; i++) yield prog.dc('civac', ramOf(s) + i * 64, { attrs: WB });
      yield prog.dsb();
    })());
    expect(stat(sys, 'system.cpu0.l1d.cmoOps')).toBe(8);
    expect(stat(sys, 'system.cpu0.l1d.cmoLinesCleaned')).toBe(8);
    expect(stat(sys, 'system.cpu0.l1d.cmoCycles')).toBeGreaterThan(8 * 10);
  });
});

describe('instruction side', () => {
  function selfModify(preset: string, sets: string[], maintain: boolean): number {
    let r: OpResult | undefined;
    run(preset, ['core.count=1', ...sets], function* () {
      yield prog.store(RAM + 0x2000, 4, 0xd503201f, { attrs: WB });   // old instruction
      yield prog.dc('cvau', RAM + 0x2000, { attrs: WB });
      yield prog.dsb();
      yield prog.fetch(RAM + 0x2000, 4, { attrs: WB });                 // now in the L1I
      yield prog.store(RAM + 0x2000, 4, 0x14000001, { attrs: WB });   // new instruction, in the L1D
      if (maintain) { yield prog.dc('cvau', RAM + 0x2000, { attrs: WB }); yield prog.dsb(); yield prog.ic('ivau', RAM + 0x2000); yield prog.dsb(); yield prog.isb(); }
      r = yield prog.fetch(RAM + 0x2000, 4, { attrs: WB });
    });
    return r!.value;
  }

  it('without DIC the L1I keeps the old instruction until DC CVAU + IC IVAU', () => {
    expect(selfModify('neoverse-n1', ['cache.idc=false', 'cache.dic=false'], false)).toBe(0xd503201f);
    expect(selfModify('neoverse-n1', ['cache.idc=false', 'cache.dic=false'], true)).toBe(0x14000001);
  });

  it('with DIC (Grace) the new instruction is fetched without maintenance', () => {
    expect(selfModify('grace', [], false)).toBe(0x14000001);
  });
});

describe('ID registers', () => {
  it('programs read CTR_EL0, CLIDR_EL1 and DCZID_EL0 derived from the hierarchy', () => {
    const vals: number[] = [];
    run('neoverse-n1', ['cache.idc=true', 'cache.dic=false'], function* () {
      for (const reg of [SysReg.CTR_EL0, SysReg.DCZID_EL0]) vals.push((yield prog.mrs(reg))!.value);
    });
    expect(vals).toEqual([0x9444c004, 0x4]);
  });

  it('ID_AA64ISAR0_EL1.Atomic reads 0b0010 with FEAT_LSE (neoverse-n1, grace) and 0 without (xgene1)', () => {
    const isar0 = (preset: string): number => {
      let v = -1;
      run(preset, [], function* () { v = (yield prog.mrs(ID_AA64ISAR0_EL1))!.value; });
      return v;
    };
    expect(ID_AA64ISAR0_EL1).toBe(sysRegId(3, 0, 0, 6, 0));
    expect([isar0('neoverse-n1'), isar0('grace'), isar0('xgene1')]).toEqual([0x20_0000, 0x20_0000, 0]);
  });

  it('without FEAT_DPB (xgene1) DC CVAP is UNDEFINED and cleans nothing; ID_AA64ISAR1_EL1.DPB says which', () => {
    const cvap = (sets: string[]) => {
      let r: OpResult | undefined, isar1 = -1;
      const { sys } = run('xgene1', sets, function* (s) {
        const ram = ramOf(s);
        isar1 = (yield prog.mrs(ID_AA64ISAR1_EL1))!.value;
        yield prog.store(ram + 0x100, 8, 0x77, { attrs: WB });
        r = yield prog.dc('cvap', ram + 0x100, { attrs: WB, wait: true });
        yield prog.dsb();
      });
      const memory = sys.caches.readMemory(ramOf(sys) + 0x100, 1)[0];
      return { fault: r!.fault, isar1, memory, undef: stat(sys, 'system.cpu0.undefinedInstructions') };
    };
    expect(ID_AA64ISAR1_EL1).toBe(sysRegId(3, 0, 0, 6, 1));
    expect(cvap([])).toEqual({ fault: 'undefined-instruction', isar1: 0, memory: 0, undef: 1 });
    // The same part given FEAT_DPB: DC CVAP cleans to the PoC (past the before-PoC L3, into memory).
    expect(cvap(['core.featDPB=true'])).toEqual({ fault: undefined, isar1: 1, memory: 0x77, undef: 0 });
  });
});

describe('determinism', () => {
  it('the same program and seed give identical stats', () => {
    const once = () => {
      const { sys } = run('neoverse-n1', ['cache.l1d.replacement=random'],
        function* () { for (let i = 0; i < 3000; i++) yield prog.store(RAM + ((i * 7919) % 4096) * 64, 8, i, { attrs: WB }); },
        function* () { for (let i = 0; i < 3000; i++) yield prog.load(RAM + ((i * 104729) % 4096) * 64, 8, { attrs: WB, wait: false }); });
      return JSON.stringify(sys.stats.toTree());
    };
    expect(once()).toBe(once());
  });
});

describe('atomics and exclusives', () => {
  const COUNTER = RAM + 0x9000;

  function contention(kind: 'ldadd' | 'llsc', attrs: number, pes: number, m: number, sets: string[] = []) {
    const results: OpResult[] = [];
    const body = function* (): Program {
      for (let i = 0; i < m; i++) {
        if (kind === 'ldadd') { results.push((yield prog.atomic('add', COUNTER, 8, 1, { attrs }))!); continue; }
        for (;;) {
          const old = (yield prog.ldxr(COUNTER, 8, { attrs }))!;
          if (!old.ok) { results.push(old); break; }
          const st = (yield prog.stxr(COUNTER, 8, old.value + 1, { attrs }))!;
          if (!st.ok || st.value === 0) { results.push(st); break; }
          if (st.value === 1 && attrs === NC && sets.includes('memory.regions.ram.globalMonitor=false')) { results.push(st); break; }
        }
      }
    };
    const { sys, out } = run('neoverse-n1', sets, ...Array.from({ length: pes }, () => body));
    const final = sys.caches.readCoherent(COUNTER, 8);
    const value = final.reduce((acc, b, i) => acc + b * 2 ** (8 * i), 0);
    return { value, results, out };
  }

  it('LDADD on Write-Back memory from 4 PEs counts exactly N*M', () => {
    const r = contention('ldadd', WB, 4, 50);
    expect(r.out.endReason).toBe('done');
    expect(r.value).toBe(200);
    expect(r.results.every((x) => x.ok)).toBe(true);
  });

  it('LDXR/STXR loops on Write-Back memory from 4 PEs count exactly N*M', () => {
    const r = contention('llsc', WB, 4, 30);
    expect(r.out.endReason).toBe('done');
    expect(r.value).toBe(120);
  });

  it('on Normal-NC memory LDADD follows the region: far atomics count, abort faults, unsupported faults with its own code', () => {
    expect(contention('ldadd', NC, 2, 20).value).toBe(40);
    const ab = contention('ldadd', NC, 2, 5, ['memory.regions.ram.ncAtomics=abort']);
    expect(ab.value).toBe(0);
    expect(ab.results.every((x) => x.fault === 'external-abort')).toBe(true);
    const un = contention('ldadd', NC, 1, 3, ['memory.regions.ram.ncAtomics=unsupported']);
    expect(un.results.every((x) => x.fault === 'unsupported-atomic')).toBe(true);
  });

  it('NC exclusives use the global monitor; without one STXR always fails', () => {
    expect(contention('llsc', NC, 2, 10).value).toBe(20);
    const nf = contention('llsc', NC, 1, 3, ['memory.regions.ram.globalMonitor=false']);
    expect(nf.value).toBe(0);
    expect(nf.results.every((x) => x.value === 1)).toBe(true);
  });

  it('a misaligned atomic is an alignment fault', () => {
    let r: OpResult | undefined;
    run('neoverse-n1', [], function* () { r = yield prog.atomic('add', RAM + 4, 8, 1, { attrs: WB }); });
    expect(r!.fault).toBe('alignment');
  });

  it('with FEAT_LSE2 (grace) an atomic inside a 16-byte block of Normal memory need not be aligned; across one, on Device memory, or as an exclusive it must', () => {
    const tryAll = (preset: string) => {
      const faults: (string | undefined)[] = [];
      let bytes: number[] = [];
      const { sys } = run(preset, [], function* (s) {
        const ram = ramOf(s);
        yield prog.store(ram + 0x100, 4, 0x04030201, { attrs: WB });
        yield prog.store(ram + 0x104, 4, 0x08070605, { attrs: WB });
        faults.push((yield prog.atomic('add', ram + 0x104, 8, 0x10, { attrs: WB }))!.fault);    // bytes 4..11 of the block
        faults.push((yield prog.atomic('add', ram + 0x14c, 8, 1, { attrs: NC }))!.fault);       // 12..19: crosses it
        faults.push((yield prog.atomic('add', ram + 0x186, 4, 1, { attrs: NC }))!.fault);       // far, unaligned, inside
        faults.push((yield prog.atomic('add', ram + 0x1c4, 8, 1, { attrs: DEVICE_nGnRE }))!.fault);
        faults.push((yield prog.ldxr(ram + 0x204, 8, { attrs: WB }))!.fault);
      });
      bytes = [...sys.caches.readCoherent(ramOf(sys) + 0x100, 16)];
      return { faults, bytes };
    };
    const g = tryAll('grace');
    expect(g.faults).toEqual([undefined, 'alignment', undefined, 'alignment', 'alignment']);
    // bytes 4..11 held 0x08070605 (little-endian): plus 0x10 is 0x08070615; bytes 0..3 untouched
    expect(g.bytes).toEqual([1, 2, 3, 4, 0x15, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
    const n = tryAll('neoverse-n1');
    expect(n.faults).toEqual(['alignment', 'alignment', 'alignment', 'alignment', 'alignment']);
    expect(n.bytes).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('CAS writes only on a match and returns the old value', () => {
    const seen: number[] = [];
    run('neoverse-n1', [], function* () {
      yield prog.store(RAM + 0x40, 8, 5, { attrs: WB });
      seen.push((yield prog.cas(RAM + 0x40, 8, 4, 9, { attrs: WB }))!.value);   // no match
      seen.push((yield prog.cas(RAM + 0x40, 8, 5, 9, { attrs: WB }))!.value);   // match
      seen.push((yield prog.load(RAM + 0x40, 8, { attrs: WB }))!.value);
    });
    expect(seen).toEqual([5, 5, 9]);
  });

  it('CLREX makes the next STXR fail', () => {
    let st: OpResult | undefined;
    run('neoverse-n1', [], function* () {
      yield prog.ldxr(RAM + 0x80, 8, { attrs: WB });
      yield prog.clrex();
      st = yield prog.stxr(RAM + 0x80, 8, 1, { attrs: WB });
    });
    expect(st!.value).toBe(1);
  });
});

describe('prefetch, write acknowledgement, miss queues', () => {
  const stream = (n: number) => function* (): Program {
    for (let i = 0; i < n; i++) yield prog.load(RAM + i * 64, 8, { attrs: WB });
  };

  it('a next-line prefetcher turns a sequential stream\'s L2 misses into hits; cache.prefetch=none turns it off', () => {
    const off = run('neoverse-n1', ['cache.prefetch=none'], stream(64));
    const on = run('neoverse-n1', ['cache.prefetch=next-line'], stream(64));
    expect(stat(off.sys, 'system.cpu0.l2.prefetches')).toBe(0);
    expect(stat(on.sys, 'system.cpu0.l2.prefetches')).toBeGreaterThan(20);
    expect(stat(on.sys, 'system.cpu0.l2.readMisses')).toBeLessThan(stat(off.sys, 'system.cpu0.l2.readMisses') / 2);
    expect(on.out.cycles).toBeLessThan(off.out.cycles);
  });

  it('a Device-nGnRnE write waits for the target; a Normal-NC one is acknowledged by the interconnect', () => {
    const lat = (attrs: number): number => {
      let t = 0;
      run('neoverse-n1', [], function* (s) { const t0 = s.q.now; yield prog.store(RAM, 8, 1, { attrs, wait: true }); t = s.q.now - t0; });
      return t;
    };
    const ic = 30;   // neoverse-n1 interconnect latency
    expect(lat(NC)).toBe(ic + Math.ceil(ic / 2) + Math.floor(ic / 2));
    expect(lat(0 /* Device-nGnRnE */)).toBeGreaterThan(lat(NC) + 20);
  });

  it('independent misses overlap up to the L1D\'s MSHRs', () => {
    const many = (sets: string[]) => run('neoverse-n1', ['cache.prefetch=none', ...sets], function* () {
      for (let i = 0; i < 16; i++) yield prog.load(RAM + i * 4096, 8, { attrs: WB, wait: false });
      yield prog.dsb();
    }).out.cycles;
    const one = many(['cache.l1d.mshrs=1']);
    const sixteen = many(['cache.l1d.mshrs=16']);
    expect(one).toBeGreaterThan(sixteen * 4);
  });
});

describe('port bandwidth', () => {
  it('an L2 data port of 16 B/cycle spaces back-to-back L2 hits by a line transfer each', () => {
    const burst = (sets: string[]) => run('neoverse-n1', ['cache.prefetch=none', 'cache.l1d.sizeBytes=1KiB', 'cache.l1d.ways=1', ...sets], function* () {
      for (let i = 0; i < 64; i++) yield prog.load(RAM + i * 64, 8, { attrs: WB });          // now in the L2, out of the small L1D
      yield prog.dsb();
      for (let r = 0; r < 3; r++) {
        for (let i = 0; i < 64; i++) yield prog.load(RAM + i * 64, 8, { attrs: WB, wait: false });
        yield prog.dsb();
      }
    }).out.cycles;
    const free = burst(['cache.l2.bytesPerCycle=4096']), limited = burst(['cache.l2.bytesPerCycle=16']);
    // 3 x 64 L2 hits, each holding the port 64/16 = 4 cycles: at least ~3*64*4 cycles more than unlimited overlap allows.
    expect(limited - free).toBeGreaterThan(3 * 64 * 2);
  });
});

describe('global monitor and the system cache', () => {
  it('a non-cacheable store that hits a system-cache L3 line clears another PE\'s global monitor mark', () => {
    const C = RAM + 0x4000, F = RAM + 0x5000;
    let st: OpResult | undefined;
    const { sys } = run('neoverse-n1', [],
      function* () {
        yield prog.load(C, 8, { attrs: WB });                  // the line now sits in the system cache too
        yield prog.dc('civac', C, { attrs: WB }); yield prog.dsb();
        yield prog.ldxr(C, 8, { attrs: NC });
        yield prog.store(F, 8, 1, { attrs: NC, wait: true });
        yield* prog.spinUntil(F + 8, 8, (r) => r.value === 1, { attrs: NC });
        st = yield prog.stxr(C, 8, 7, { attrs: NC });
      },
      function* () {
        yield* prog.spinUntil(F, 8, (r) => r.value === 1, { attrs: NC });
        yield prog.store(C, 8, 5, { attrs: NC, wait: true });
        yield prog.store(F + 8, 8, 1, { attrs: NC, wait: true });
      });
    expect(sys.caches.whereIs(C).some((w) => w.startsWith('system.l3'))).toBe(true);
    expect(st!.value).toBe(1);
    expect(sys.caches.readCoherent(C, 1)[0]).toBe(5);
  });
});
