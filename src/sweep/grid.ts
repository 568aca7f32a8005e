import { UserError, resolveConfig, parseSize } from '../sim/index.js';
import { PRESETS, PlatformSchema, type Scenario } from '../platform/index.js';
import { SCENARIOS } from '../../workloads/index.js';
import { fmtSize, type Suite } from './suites.js';

/** One point of a suite's grid. */
export interface Cell {
  /** Position in the suite's enumeration: the order of the CSV, the table and the summary. */
  index: number;
  /** `scenario/platform/axis=value/.../seed=N`: names every coordinate. */
  key: string;
  scenario: string;
  platform: string;
  /** Axis name -> value, in axis order. */
  coords: Record<string, string>;
  /** The `--set`s of the run: the suite's, then one per axis. */
  sets: string[];
  seed: number;
  /** Set when a skip rule applies: the cell is listed, not run. */
  skip?: string;
}

/** What selects a suite's grid besides its definition. */
export interface GridOptions {
  platforms?: readonly string[];
  /** The axes' `quick` values (tests, smoke runs). */
  quick?: boolean;
  /** Axis name -> values, replacing the suite's (`--axis NAME=v,...`). */
  axes?: ReadonlyMap<string, readonly string[]>;
  seeds?: readonly number[];
}

/**
 * Enumerates and checks a suite's cells: scenarios × platforms × axes × seeds, every cell's
 * platform and scenario parameters resolved here (so a typo stops the sweep before anything runs,
 * as a one-line UserError), then the suite's skip rules applied.
 */
export function cellsOf(suite: Suite, opts: GridOptions = {}): Cell[] {
  for (const name of opts.axes?.keys() ?? []) {
    if (!suite.axes.some((a) => a.name === name)) throw new UserError(`--axis: suite '${suite.name}' has no axis '${name}' (accepted: ${suite.axes.map((a) => a.name).join(', ')})`);
  }
  const platforms = opts.platforms ?? suite.platforms;
  for (const p of platforms) if (!PRESETS[p]) throw new UserError(`--platform must be a list of ${Object.keys(PRESETS).join(', ')} (got '${p}')`);
  const axisValues = suite.axes.map((a) => {
    const raw = opts.axes?.get(a.name) ?? (opts.quick ? a.quick ?? a.values : a.values);
    return raw.map((v) => {
      if (a.kind === 'enum') {
        if (!a.values.includes(v)) throw new UserError(`--axis ${a.name}: '${v}' is not one of ${a.values.join(', ')}`);
        return v;
      }
      const n = parseSize(v);
      if (!Number.isSafeInteger(n) || n <= 0) throw new UserError(`--axis ${a.name}: '${v}' is not a size (e.g. 64KiB, 4MiB)`);
      return fmtSize(n);
    });
  });
  const seeds = opts.seeds ?? suite.seeds;
  const cells: Cell[] = [];
  for (const scName of suite.scenarios) {
    // A scenario the suite names but the catalog lacks (not written yet): its cells are listed as skipped.
    const sc = SCENARIOS.find((s) => s.name === scName);
    for (const platform of platforms) {
      for (const combo of product(axisValues)) {
        for (const seed of seeds) {
          const coords: Record<string, string> = {};
          suite.axes.forEach((a, i) => { coords[a.name] = combo[i]!; });
          const sets = [...(suite.sets ?? []), ...suite.axes.map((a, i) => `${a.key}=${combo[i]!}`)];
          const key = [scName, platform, ...suite.axes.map((a, i) => `${a.name}=${combo[i]!}`), `seed=${seed}`].join('/');
          const cell: Cell = { index: cells.length, key, scenario: scName, platform, coords, sets, seed };
          const skip = sc === undefined ? `not yet: scenario '${scName}' is not in the catalog` : skipReason(suite, sc, platform, sets);
          if (skip !== undefined) cell.skip = skip;
          cells.push(cell);
        }
      }
    }
  }
  if (new Set(cells.map((c) => c.key)).size !== cells.length) throw new UserError(`--axis: the same value is listed twice`);
  return cells;
}

function skipReason(suite: Suite, sc: Scenario<any>, platform: string, sets: readonly string[]): string | undefined {
  // The same split and resolution as `armsim run` (src/cli/run.ts), so what is checked here is what runs.
  const platformSets = sets.filter((s) => !s.startsWith('scenario.'));
  const scenarioSets = sets.filter((s) => s.startsWith('scenario.')).map((s) => s.slice('scenario.'.length));
  const cfg = resolveConfig(PlatformSchema, PRESETS[platform]!, { sets: [...(sc.platformSets ?? []), ...platformSets] });
  const params = resolveConfig(sc.params, {}, { sets: scenarioSets, root: 'scenario' }) as Record<string, unknown>;
  for (const rule of suite.skips) {
    const why = rule.test({ scenario: sc.name, platform, cfg, params });
    if (why !== undefined) return why;
  }
  return undefined;
}

function* product(lists: readonly (readonly string[])[]): Generator<string[]> {
  if (lists.length === 0) { yield []; return; }
  const [first, ...rest] = lists;
  for (const v of first!) for (const tail of product(rest)) yield [v, ...tail];
}
