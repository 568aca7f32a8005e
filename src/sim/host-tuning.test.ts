import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

/** `armsim run ... --json` with the environment `env` added; the result without its host timings. */
function runJson(args: string[], env: Record<string, string>): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['bin/armsim.js', 'run', ...args, '--json'], { encoding: 'utf8', env: { ...process.env, ...env } });
  expect(r.status, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  delete out['host'];
  return out;
}

describe('tuneV8 (src/sim/host-tuning.ts)', () => {
  it('sets the flags on this Node, and ARMSIM_V8_TUNING=0 leaves them', () => {
    const probe = "import('./dist/src/sim/host-tuning.js').then((m) => console.log(m.tuneV8()))";
    const on = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
    expect(on.stdout.trim()).toBe('true');
    const off = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', env: { ...process.env, ARMSIM_V8_TUNING: '0' } });
    expect(off.stdout.trim()).toBe('false');
  });

  it('changes no result: a scenario gives the same --json with and without it', () => {
    const args = ['set-way-vs-l3', '--platform', 'xgene1', '--set', 'scenario.strategy=set-way'];
    const tuned = runJson(args, {});
    expect(tuned['verdict']).toBe('pass');
    expect(runJson(args, { ARMSIM_V8_TUNING: '0' })).toEqual(tuned);
  });
});
