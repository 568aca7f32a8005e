import type { Region } from '../src/mem/index.js';
import type { System } from '../src/platform/index.js';
import { UserError } from '../src/sim/index.js';

/** The platform's first dram region; a one-line UserError naming the scenario when it has none. */
export function dramRegion(sys: System, scenario: string): Region {
  const ram = sys.map.regions.find((r) => r.kind === 'dram');
  if (ram === undefined) throw new UserError(`memory.regions: ${scenario} needs a region of kind dram (the platform has none)`);
  return ram;
}

/**
 * The first dram region (with at least `minDramBytes`) and the first device region of the
 * platform, for scenarios that place tables and buffers in one and a device window in the other;
 * a one-line UserError naming the scenario when the platform lacks them.
 */
export function dramAndDevice(sys: System, scenario: string, minDramBytes: number) {
  const ram = sys.map.regions.find((r) => r.kind === 'dram');
  const dev = sys.map.regions.find((r) => r.kind === 'device');
  if (ram === undefined || dev === undefined) throw new UserError(`memory.regions: ${scenario} needs a region of kind dram and one of kind device`);
  if (ram.size < minDramBytes) throw new UserError(`memory.regions.${ram.name}.size: ${scenario} needs at least ${minDramBytes / 2 ** 20} MiB of dram (got ${ram.size})`);
  return { ram, dev };
}
