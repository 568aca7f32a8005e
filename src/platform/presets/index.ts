import type { PlatformConfig } from '../schema.js';
import { CACHEGRIND } from './cachegrind.js';
import { GRACE } from './grace.js';
import { NEOVERSE_N1 } from './neoverse-n1.js';
import { XGENE1 } from './xgene1.js';

/** Named platform presets: `--platform NAME`. */
export const PRESETS: Readonly<Record<string, PlatformConfig>> = {
  'neoverse-n1': NEOVERSE_N1,
  xgene1: XGENE1,
  grace: GRACE,
  cachegrind: CACHEGRIND,
};

/** The platform a run gets without `--platform` (the README's first command uses it). */
export const DEFAULT_PLATFORM = 'neoverse-n1';
