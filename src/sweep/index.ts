/**
 * sweep — `armsim bench`: a suite is a named grid (scenario × platform × `--set` axes × seeds)
 * run cell by cell on a piscina worker pool, each record written as it arrives.
 *
 * Models nothing itself: every cell is `armsim run SCENARIO --platform P --set ... --seed N` in a
 * worker thread (src/cli/run.ts runScenario), so a record is what that command would report.
 * Suites: cmo-strategies, pfnmap-policies, smmu-invalidation, pmem-strategies (suites.ts); the
 * reports and plots of a suite's records are src/report's. Leaves out: timelines of sweep cells.
 */
export { SUITES, CMO_STRATEGIES_SUITE, PFNMAP_POLICIES_SUITE, fmtSize } from './suites.js';
export type { Suite, Axis, Measure, SkipRule, CellView } from './suites.js';
export { cellsOf } from './grid.js';
export type { Cell, GridOptions } from './grid.js';
export { runSweep, readRecords, sortRecords, PoolCellExecutor, RECORDS_JSONL, RECORDS_CSV } from './runner.js';
export type { SweepRecord, SweepOptions, SweepResult, CellExecutor } from './runner.js';
export type { CellTask, CellResult } from './worker.js';
