/**
 * platform — named presets and the one builder that wires blocks together.
 * Models: the platform configuration schema, presets for real parts, and System (build + run).
 */
export { PlatformSchema, type PlatformConfig } from './schema.js';
export { PRESETS, DEFAULT_PLATFORM } from './presets/index.js';
export { System, type RunOutcome, type EndReason, type SmmuParts } from './system.js';
export { buildSystem } from './test-helpers.js';
export { defineScenario, type Scenario, type ScenarioContext, type Check } from './scenario.js';
