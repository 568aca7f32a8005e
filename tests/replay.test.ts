import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, truncateSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armsim, deterministicPart } from './cli-helpers.js';
import { TraceWriter } from '../src/core/trace-format.js';
import { OpCode } from '../src/core/ops.js';
import { Rng } from '../src/sim/rng.js';

/** Counts lackey records by kind, independently of the importer. */
function countLackey(text: string): { I: number; L: number; S: number; M: number } {
  const n = { I: 0, L: 0, S: 0, M: 0 };
  for (const line of text.split('\n')) {
    const m = /^(I| L| S| M) +[0-9a-fA-F]+,\d+\s*$/.exec(line);
    if (m) n[m[1]!.trim() as keyof typeof n]++;
  }
  return n;
}

function importAndReplay(lackeyText: string): { counts: ReturnType<typeof countLackey>; out: any; trace: string } {
  const dir = mkdtempSync(join(tmpdir(), 'armsim-replay-'));
  const src = join(dir, 'prog.lackey');
  writeFileSync(src, lackeyText);
  const trace = join(dir, 'prog.trace');
  const imp = armsim(['trace', 'import', '--from', 'lackey', src, '-o', trace]);
  expect(imp.code, imp.stderr).toBe(0);
  const r = armsim(['replay', trace, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return { counts: countLackey(lackeyText), out: JSON.parse(r.stdout), trace };
}

describe('lackey import then replay', () => {
  it('replays as many loads and stores as the lackey file has records (M = load + store)', () => {
    const text = [
      '==123== Lackey, an example Valgrind tool', '',
      'I  04000a10,3', ' L 1ffefffb48,8', ' S 1ffefffb40,8', ' M 0421f028,4',
      'I  04000a13,5', ' L 0421f03c,4', ' M 1ffefffb3c,4', ' S 04220000,16',
      '==123== ',
    ].join('\n') + '\n';
    const { counts, out } = importAndReplay(text);
    const cpu = out.stats.system.cpu0;
    expect(cpu.loads).toBe(counts.L + counts.M);
    expect(cpu.stores).toBe(counts.S + counts.M);
    expect(cpu.fetches).toBe(counts.I);
    expect(out.ops).toBe(counts.I + counts.L + counts.S + 2 * counts.M);
    expect(out.verdict).toBe('pass');
  });

  it('a real valgrind lackey trace replays with matching counts, deterministically', () => {
    const dir = mkdtempSync(join(tmpdir(), 'armsim-vg-'));
    const log = join(dir, 'true.lackey');
    const vg = spawnSync('valgrind', ['--tool=lackey', '--trace-mem=yes', `--log-file=${log}`, '/bin/true'], { encoding: 'utf8' });
    expect(vg.status, `valgrind must be installed (.ci/run installs it): ${vg.error?.message ?? vg.stderr}`).toBe(0);
    const text = readFileSync(log, 'utf8');
    const { counts, out, trace } = importAndReplay(text);
    expect(counts.I + counts.L + counts.S + counts.M).toBeGreaterThan(10_000);
    const cpu = out.stats.system.cpu0;
    expect(cpu.loads).toBeGreaterThanOrEqual(counts.L + counts.M);   // >64-byte accesses split into pieces
    expect(cpu.stores).toBeGreaterThanOrEqual(counts.S + counts.M);
    expect(out.ops).toBe(cpu.loads + cpu.stores + cpu.fetches);
    const again = armsim(['replay', trace, '--json']);
    expect(deterministicPart(again.stdout)).toBe(deterministicPart(JSON.stringify(out)));
  });

  it('a truncated or corrupt trace gives exit 2 with a clear message and no output', () => {
    const text = Array.from({ length: 5000 }, (_, i) => ` L ${(0x1000 + i * 8).toString(16)},8`).join('\n') + '\n';
    const { trace } = importAndReplay(text);
    const size = statSync(trace).size;
    truncateSync(trace, Math.floor(size / 2));
    const r = armsim(['replay', trace, '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/truncated/);

    const { trace: t2 } = importAndReplay(text);
    const bytes = readFileSync(t2);
    bytes[200] ^= 0xff;                        // inside the first chunk's payload
    writeFileSync(t2, bytes);
    const c = armsim(['replay', t2, '--json']);
    expect(c.code).toBe(2);
    expect(c.stdout).toBe('');
    expect(c.stderr).toMatch(/corrupt|CRC/);
    expect(existsSync(t2)).toBe(true);
  });
});

describe('replay with the chunks read ahead by worker threads (ARMSIM_TRACE_PREFETCH)', () => {
  /** Two agents of loads and stores in many small chunks. */
  function twoAgentTrace(): string {
    const dir = mkdtempSync(join(tmpdir(), 'armsim-prefetch-'));
    const file = join(dir, 'two.trace');
    const w = TraceWriter.create(file, { agents: 2, addressKind: 'physical', source: 'test' }, { chunkOps: 256 });
    const rng = new Rng(3);
    for (let i = 0; i < 6000; i++) {
      const agent = i % 3 === 0 ? 1 : 0, addr = 0x8000_0000 + rng.nextInt(1 << 16) * 8;
      if (rng.nextInt(4) === 0) w.push(agent, OpCode.Store, addr, 8, rng.nextU32(), 0);
      else w.push(agent, OpCode.Load, addr, 8, 0, 0);
    }
    w.close();
    return file;
  }
  const withPrefetch = (on: boolean, args: string[]) => armsim(args, { env: { ARMSIM_TRACE_PREFETCH: on ? '1' : '0' } });

  it('gives byte-identical results with and without it, run to the end or cut short', () => {
    const trace = twoAgentTrace();
    for (const extra of [[], ['--max-cycles', '3000']]) {      // the whole run takes ~12,000 cycles
      const a = withPrefetch(true, ['replay', trace, '--json', ...extra]), b = withPrefetch(false, ['replay', trace, '--json', ...extra]);
      expect(a.code, a.stderr).toBe(extra.length === 0 ? 0 : 1);
      expect(b.code, b.stderr).toBe(a.code);
      expect(deterministicPart(a.stdout)).toBe(deterministicPart(b.stdout));
      if (extra.length === 0) expect(JSON.parse(a.stdout).ops).toBe(6000);
    }
  });

  it('a corrupt chunk in the middle gives the same one-line error, exit 2 and no output either way', () => {
    const trace = twoAgentTrace();
    const bytes = readFileSync(trace);
    bytes[Math.floor(bytes.length / 2)] ^= 0x55;
    writeFileSync(trace, bytes);
    const a = withPrefetch(true, ['replay', trace, '--json']), b = withPrefetch(false, ['replay', trace, '--json']);
    expect(a.code).toBe(2);
    expect(a.stdout).toBe('');
    expect(a.stderr.trim().split('\n')).toHaveLength(1);
    expect(a.stderr).toMatch(/corrupt/);
    expect(a.stderr).toBe(b.stderr);
    expect(b.code).toBe(2);
  });
});
