import type { PlatformConfig } from '../schema.js';
import { NEOVERSE_N1 } from './neoverse-n1.js';

/** Named platform presets: `--platform NAME`. */
export const PRESETS: Readonly<Record<string, PlatformConfig>> = {
  'neoverse-n1': NEOVERSE_N1,
};

/** The platform a run gets without `--platform` (the README's first command uses it). */
export const DEFAULT_PLATFORM = 'neoverse-n1';
