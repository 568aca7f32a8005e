import type { StatsRegistry } from '../sim/index.js';

/**
 * Counters of one cache level. The names are a stable interface (`--json` stats tree, scripts):
 * readHits, readMisses, writeHits, writeMisses, writebacks, snoopsReceived, cmoOps,
 * cmoLinesCleaned, cmoCycles. Instruction fetches count as reads.
 */
export class LevelStats {
  readHits = 0; readMisses = 0; writeHits = 0; writeMisses = 0;
  writebacks = 0; snoopsReceived = 0;
  cmoOps = 0; cmoLinesCleaned = 0; cmoCycles = 0;
  prefetches = 0;
  writebackHits = 0; writebackMisses = 0;
  writebackBufferFullCycles = 0;
}

export function registerLevelStats(stats: StatsRegistry, path: string, s: LevelStats): void {
  const c = (desc: string) => ({ unit: 'count', desc });
  stats.add(path, s, {
    readHits: c('reads and fetches that hit with the permission they needed'),
    readMisses: c('reads and fetches that missed'),
    writeHits: c('writes that hit a line this level could write'),
    writeMisses: c('writes that missed, or hit a shared line and needed an upgrade'),
    writebacks: c('dirty lines this level evicted to the next one'),
    snoopsReceived: c('coherence snoops that found the line here'),
    cmoOps: c('cache maintenance operations that looked this level up'),
    cmoLinesCleaned: c('dirty lines written back by maintenance'),
    cmoCycles: { unit: 'cycles', desc: 'cycles maintenance operations spent at this level' },
    prefetches: c('lines a hardware prefetcher brought into this level'),
    writebackHits: c('lines written back from the level above that found their line here (not in writeHits)'),
    writebackMisses: c('lines written back from the level above that missed here (not in writeMisses)'),
    writebackBufferFullCycles: { unit: 'cycles', desc: 'cycles every entry of the write-back buffer (writebackBuffer) held a victim on its way to memory' },
  });
}
