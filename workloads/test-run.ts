import { vi } from 'vitest';
import { runScenarioCommand } from '../src/cli/run.js';

/** What `armsim run NAME --json` prints, the parts scenario tests read. */
export interface Report {
  scenario: string;
  platform: string;
  verdict: 'pass' | 'fail';
  end: { reason: string };
  checks: Record<string, Record<string, any>>;
}

/**
 * Runs a scenario through the CLI's own run function (`armsim run NAME --json --platform P --set
 * ...`), in process, and parses what it prints.
 */
export async function run(name: string, opts: { platform?: string; sets?: string[]; seed?: number; maxCycles?: number } = {}): Promise<{ code: number; r: Report }> {
  let out = '';
  const write = ((chunk: string | Uint8Array): boolean => { out += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'); return true; }) as typeof process.stdout.write;
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation(write);
  let code: number;
  try {
    code = await runScenarioCommand(name, { platform: opts.platform, sets: [...(opts.sets ?? [])], config: undefined, seed: opts.seed ?? 1, maxCycles: opts.maxCycles, json: true });
  } finally {
    spy.mockRestore();
  }
  return { code, r: out === '' ? ({} as Report) : JSON.parse(out) as Report };
}
