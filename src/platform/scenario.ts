import type { z } from 'zod';
import type { System, RunOutcome } from './system.js';

/** A named check with the quantities it measured (`pass` plus numbers, strings or arrays). */
export type Check = { pass: boolean } & Record<string, unknown>;

export interface ScenarioContext<P> {
  readonly sys: System;
  readonly params: P;
  readonly seed: number;
}

/**
 * A scenario: a platform, agents, and a check of the outcome. Modules in workloads/ export one as
 * `scenario`; `armsim run <name|path>` runs it.
 *
 * Contract: `params` is a strict zod object whose fields all have defaults (users set them as
 * `--set scenario.<name>=<value>`); `setup` attaches agents to PEs; `check` only reads.
 */
export interface Scenario<P = Record<string, unknown>> {
  readonly name: string;
  readonly description: string;
  /** Preset used when the user gives no `--platform`. */
  readonly platform?: string;
  /** `--set`-style overrides applied to the platform before the user's own. */
  readonly platformSets?: readonly string[];
  /**
   * The address translation the scenario's agents are written for (default `flat`: each access
   * carries its attributes, as every preset translates; `vmsa`: page tables and stage 2 decide
   * them, set before `platformSets`; `either`: the scenario checks what it needs itself). A
   * platform that ends up with the other is refused.
   */
  readonly translation?: 'flat' | 'vmsa' | 'either';
  /** The hypervisor policies (`hyp.policy`) and strategies (`hyp.cmo`) the scenario is meant to be run under, for `armsim list`. */
  readonly accepts?: { readonly policies?: readonly string[]; readonly cmo?: readonly string[] };
  readonly params: z.ZodType<P>;
  setup(ctx: ScenarioContext<P>): void;
  check(ctx: ScenarioContext<P>, outcome: RunOutcome): Record<string, Check>;
}

/** Identity helper that keeps the parameter type for the compiler. */
export function defineScenario<P>(s: Scenario<P>): Scenario<P> { return s; }
