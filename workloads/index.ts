import type { Scenario } from '../src/platform/index.js';
import { scenario as dramStream } from './dram-stream.js';
import { scenario as latMemRd } from './lat-mem-rd.js';
import { scenario as setWayVsL3 } from './set-way-vs-l3.js';
import { scenario as mismatchedAlias } from './mismatched-alias.js';
import { scenario as atomicsContention } from './atomics-contention.js';
import { scenario as guestBootMmuOff } from './guest-boot-mmu-off.js';
import { scenario as atomicsNormalNc } from './atomics-normal-nc.js';
import { scenario as smmuNoncoherentDma } from './smmu-noncoherent-dma.js';
import { scenario as smmuNestedDma } from './smmu-nested-dma.js';
import { scenario as smmuFaults } from './smmu-faults.js';
import { scenario as smmuInvalidation } from './smmu-invalidation.js';
import { scenario as execOnDeviceMemory } from './exec-on-device-memory.js';
import { scenario as mteOnPfnmap } from './mte-on-pfnmap.js';
import { scenario as cowDevicePfnClean } from './cow-device-pfn-clean.js';
import { scenario as hcrDcDma } from './hcr-dc-dma.js';
import { scenario as vfioLiveMigrationAlias } from './vfio-live-migration-alias.js';
import { scenario as pmemPersist } from './pmem-persist.js';
import { scenario as dirtyLogging } from './dirty-logging.js';

/** The scenario catalog: `armsim list` shows it, `armsim run NAME` runs from it. */
export const SCENARIOS: readonly Scenario<any>[] = [dramStream, latMemRd, setWayVsL3, mismatchedAlias, atomicsContention, guestBootMmuOff, atomicsNormalNc, execOnDeviceMemory, mteOnPfnmap, cowDevicePfnClean, smmuNoncoherentDma, smmuNestedDma, smmuFaults, smmuInvalidation, hcrDcDma, vfioLiveMigrationAlias, pmemPersist, dirtyLogging];
