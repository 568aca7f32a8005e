import type { Scenario } from '../src/platform/index.js';
import { scenario as dramStream } from './dram-stream.js';

/** The scenario catalog: `armsim list` shows it, `armsim run NAME` runs from it. */
export const SCENARIOS: readonly Scenario<any>[] = [dramStream];
