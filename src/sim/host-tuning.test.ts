import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpCode, TraceWriter } from '../core/index.js';
import { Rng } from './index.js';

/** `armsim replay TRACE --json` with `env` added; the result without its host timings. */
function replayJson(trace: string, env: Record<string, string>): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['bin/armsim.js', 'replay', trace, '--json'], { encoding: 'utf8', env: { ...process.env, ...env } });
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

  it('changes no result: armsim replay gives the same --json with and without it', () => {
    // Long enough for the hot paths to be optimized (and so inlined differently) during the run.
    const trace = join(mkdtempSync(join(tmpdir(), 'armsim-tuning-')), 'mix.trace');
    const w = TraceWriter.create(trace, { agents: 1, addressKind: 'physical', source: 'test' });
    const rng = new Rng(11);
    const base = 0x80_0000_0000;
    let off = 0;
    for (let i = 0; i < 300_000; i++) {
      if (rng.nextInt(8) === 0) off = rng.nextInt(1 << 21) * 8;     // random jumps over 16 MiB, else sequential
      const r = rng.nextInt(10);
      w.push(0, r < 2 ? OpCode.Fetch : r < 7 ? OpCode.Load : OpCode.Store, base + off, r < 2 ? 4 : 8, i >>> 0, 0);
      off = (off + 8) % (1 << 24);
    }
    w.close();
    const tuned = replayJson(trace, {});
    expect(JSON.stringify(tuned)).toMatch(/readMisses/);
    expect(replayJson(trace, { ARMSIM_V8_TUNING: '0' })).toEqual(tuned);
  });
});
