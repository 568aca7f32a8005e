/**
 * sim — the engine every block stands on.
 *
 * Models: simulated time as integer core cycles; clock domains at integer ratios; one event queue
 * ordered by (cycle, insertion sequence); links with latency and credit-based backpressure that
 * carry ids of pooled requests; a statistics registry; seeded random streams; user-error reporting;
 * word views of byte buffers for copies that move 32-bit words.
 * Leaves out: anything about what the requests mean (that is mem/, cache/, mmu/).
 */
export { type Cycle, ClockDomain, mod } from './time.js';
export { EventQueue, type Handler } from './event-queue.js';
export { RequestTable, ReqKind, ReqStatus, REQ_FLAG_NO_DATA, REQ_FLAG_EXCLUSIVE } from './request-table.js';
export { Link, type RequestPort, type ResponsePort } from './link.js';
export { StatsRegistry, Histogram, diffSnapshots, treeOf, sortKeys, round6, type StatSpec, type StatSpecs } from './stats.js';
export { Rng } from './rng.js';
export { WordViews } from './words.js';
export { ResponseRouter } from './response-router.js';
export { UserError } from './errors.js';
export { resolveConfig, loadConfigFile, applySet, parseSize, zSize, zAddress, zInt, zPow2, deepFreeze } from './config.js';
export { Timeline, DEFAULT_TIMELINE_MAX_EVENTS, TIMELINE_TIME_UNIT, parseTimelineWindow, type TimelineOptions, type TimelineArgs, type TimelineTrack } from './timeline.js';
export { tuneV8, V8_TUNING_FLAGS } from './host-tuning.js';
