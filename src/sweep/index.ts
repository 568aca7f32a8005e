/**
 * sweep — `armsim bench`: a suite is a named grid (scenario × platform × `--set` axes × seeds)
 * run cell by cell on a piscina worker pool, each record written as it arrives.
 *
 * Models nothing itself: every cell is `armsim run SCENARIO --platform P --set ... --seed N` in a
 * worker thread (src/cli/run.ts runScenario), so a record is what that command would report.
 * Leaves out (issue 7, later parts): HTML/Markdown reports and plots, timelines, a progress bar
 * beyond one status line, and the smmu-invalidation and speed suites.
 */
export { SUITES, CMO_STRATEGIES_SUITE, PFNMAP_POLICIES_SUITE, fmtSize } from './suites.js';
export type { Suite, Axis, Measure, SkipRule, CellView } from './suites.js';
export { cellsOf } from './grid.js';
export type { Cell, GridOptions } from './grid.js';
export { runSweep, readRecords, sortRecords, PoolCellExecutor, RECORDS_JSONL, RECORDS_CSV } from './runner.js';
export type { SweepRecord, SweepOptions, SweepResult, CellExecutor } from './runner.js';
export type { CellTask, CellResult } from './worker.js';
