import { pack } from 'msgpackr';
import { move } from 'piscina';
import { UserError } from '../sim/index.js';
import { runScenario } from '../cli/run.js';

/** One cell of a sweep, as the pool sends it. */
export interface CellTask {
  scenario: string;
  platform: string;
  sets: string[];
  seed: number;
}

/** What comes back (msgpackr-encoded): the run's report without its stats tree, or why it threw. */
export type CellResult =
  | { ok: true; report: Omit<import('../cli/run.js').RunReport, 'stats'> }
  | { ok: false; userError: boolean; message: string };

/**
 * Runs one cell in this worker thread. Each run builds its own System from (platform, sets,
 * seed), so what it returns does not depend on which worker ran it or what ran there before.
 */
export default async function runCell(task: CellTask): Promise<Uint8Array> {
  let result: CellResult;
  try {
    const { stats: _stats, ...report } = await runScenario(task.scenario, { platform: task.platform, sets: task.sets, config: undefined, seed: task.seed, maxCycles: undefined });
    result = { ok: true, report };
  } catch (e) {
    result = { ok: false, userError: e instanceof UserError, message: e instanceof Error ? (e instanceof UserError ? e.message : (e.stack ?? e.message)) : String(e) };
  }
  // A fresh buffer of its own, moved (not copied) to the main thread.
  const bytes = new Uint8Array(pack(result));
  return move(bytes) as Uint8Array;
}
