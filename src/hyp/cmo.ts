/**
 * Cache-maintenance routines as software writes them, for the hypervisor model and scenarios:
 * programs of real DC/IC ops, so their cost is what the caches make of them.
 */
import { prog, type OpResult, type ProgramOp } from '../core/index.js';

type Routine = Generator<ProgramOp, number, OpResult | undefined>;
import { SysReg } from '../cache/id-regs.js';

export interface SetWayLevel { level: number; sets: number; ways: number; lineBytes: number }

/**
 * DC CISW over every set and way of every data or unified cache level up to LoC, read from the ID
 * registers as Linux's __flush_dcache_all (arch/arm64/mm/cache.S, before v4.9) did: CLIDR_EL1 gives
 * the levels and LoC, CSSELR_EL1 selects a level, CCSIDR_EL1 gives its geometry. Set/way
 * operations act on the issuing PE's caches only and push lines to the next level (Arm ARM D7.5.9:
 * "for set/way operations ... the point is defined to be to the next level of caching"). Calls
 * `onLevel` with each level's geometry; returns the number of DC ops issued.
 */
export function* cleanInvalidateAllBySetWay(onLevel?: (l: SetWayLevel) => void): Routine {
  let ops = 0;
  const clidr = (yield prog.mrs(SysReg.CLIDR_EL1))!.value;
  const loc = Math.floor(clidr / 2 ** 24) & 7;
  for (let level = 1; level <= loc; level++) {
    const ctype = Math.floor(clidr / 2 ** (3 * (level - 1))) & 7;
    if (ctype < 2) continue;                                  // no cache, or instruction only
    yield prog.sysRegWrite(SysReg.CSSELR_EL1, (level - 1) << 1);
    yield prog.isb();
    const ccsidr = (yield prog.mrs(SysReg.CCSIDR_EL1))!.value;
    const lineBytes = 2 ** ((ccsidr & 7) + 4);
    const ways = ((ccsidr >>> 3) & 0x3ff) + 1;
    const sets = ((ccsidr >>> 13) & 0x7fff) + 1;
    onLevel?.({ level, sets, ways, lineBytes });
    for (let set = 0; set < sets; set++) {
      for (let way = 0; way < ways; way++) {
        yield prog.dcSetWay('cisw', prog.setWayOperand(level, set, way, { ways, lineBytes }));
        ops++;
      }
    }
  }
  return ops;
}

/** DC `op` on every line of [va, va + bytes), then DSB (Linux's dcache_clean_poc and friends). Returns the ops issued. */
export function* dcByVaRange(op: 'civac' | 'cvac' | 'ivac' | 'cvau', va: number, bytes: number, lineBytes: number): Routine {
  const first = Math.floor(va / lineBytes) * lineBytes;
  let ops = 0;
  for (let a = first; a < va + bytes; a += lineBytes) { yield prog.dc(op, a); ops++; }
  yield prog.dsb();
  return ops;
}
