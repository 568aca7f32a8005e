import { resolveConfig } from '../sim/config.js';
import { PlatformSchema } from './schema.js';
import { PRESETS } from './presets/index.js';
import { System } from './system.js';

/** A System from a preset plus `--set`-style overrides (for tests and benchmarks). */
export function buildSystem(preset: string, sets: readonly string[] = [], seed = 1): System {
  const base = PRESETS[preset];
  if (base === undefined) throw new Error(`no preset ${preset}`);
  return new System(resolveConfig(PlatformSchema, base, { sets }), seed);
}
