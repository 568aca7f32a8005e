import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../sim/errors.js';
import { importLackey } from './lackey.js';
import { OpCode } from './ops.js';
import { TraceReader, type TraceChunk } from './trace-format.js';

let dir = '';
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armsim-lackey-')); });
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });
const tmp = (name: string): string => path.join(dir, name);

/** Lackey output as valgrind writes it, with commentary, a blank line, CRLF and no final newline. */
const FIXTURE = [
  '==1234== Lackey, an example Valgrind tool',
  '==1234== Command: ./prog',
  '==1234== ',
  'I  04016d10,3',
  ' L 1ffefffb48,8',
  ' S 1ffefffb40,8',
  '',
  ' M 0421f028,4\r',
  '--1234-- WARNING: unhandled syscall: 999',
  'SB 04016d13',
  'I  04016D13,7',
  ' L 00001000,130',          // 64 + 64 + 2
  ' M 00002000,65',           // (64 + 1) loads, then (64 + 1) stores
  ' S 7fff00000000,1',
  '==1234== ',
  '==1234== Counted 1 call to main()',
].join('\n');

interface Op { op: number; addr: number; size: number; lo: number; hi: number }

function readOps(file: string, agent = 0): Op[] {
  const r = TraceReader.open(file);
  const out: Op[] = [];
  const c = r.cursor(agent);
  for (let ch: TraceChunk | null = c.next(); ch !== null; ch = c.next()) {
    for (let i = 0; i < ch.length; i++) out.push({ op: ch.op[i]!, addr: ch.addr[i]!, size: ch.size[i]!, lo: ch.valueLo[i]!, hi: ch.valueHi[i]! });
  }
  r.close();
  return out;
}

const { Load: L, Store: S, Fetch: I } = OpCode;

describe('importLackey', () => {
  it('converts a hand-written log: counts per record type, M as a load and a store, large accesses split', () => {
    const input = tmp('small.lackey'), output = tmp('small.trace');
    fs.writeFileSync(input, FIXTURE);
    const res = importLackey(input, output, { chunkOps: 4 });
    expect(res).toEqual({ records: 8, fetches: 2, loads: 4, stores: 4, ops: 1 + 1 + 1 + 2 + 1 + 3 + 4 + 1 });
    const r = TraceReader.open(output);
    expect(r.header).toEqual({ version: 2, agents: 1, addressKind: 'virtual', source: 'lackey' });
    r.close();
    expect(readOps(output)).toEqual([
      { op: I, addr: 0x04016d10, size: 3, lo: 0, hi: 0 },
      { op: L, addr: 0x1ffefffb48, size: 8, lo: 0, hi: 0 },
      { op: S, addr: 0x1ffefffb40, size: 8, lo: 2, hi: 0 },       // value = record index
      { op: L, addr: 0x0421f028, size: 4, lo: 0, hi: 0 },
      { op: S, addr: 0x0421f028, size: 4, lo: 3, hi: 0 },
      { op: I, addr: 0x04016d13, size: 7, lo: 0, hi: 0 },
      { op: L, addr: 0x1000, size: 64, lo: 0, hi: 0 },
      { op: L, addr: 0x1040, size: 64, lo: 0, hi: 0 },
      { op: L, addr: 0x1080, size: 2, lo: 0, hi: 0 },
      { op: L, addr: 0x2000, size: 64, lo: 0, hi: 0 },
      { op: L, addr: 0x2040, size: 1, lo: 0, hi: 0 },
      { op: S, addr: 0x2000, size: 64, lo: 6, hi: 0 },
      { op: S, addr: 0x2040, size: 1, lo: 6, hi: 0 },
      { op: S, addr: 0x7fff00000000, size: 1, lo: 7, hi: 0 },
    ]);
  });

  it('puts the ops under the requested agent', () => {
    const input = tmp('agent.lackey'), output = tmp('agent.trace');
    fs.writeFileSync(input, 'I  1000,4\n L 2000,8\n');
    importLackey(input, output, { agent: 2 });
    const r = TraceReader.open(output);
    expect(r.header.agents).toBe(3);
    expect([r.opCount(0), r.opCount(1), r.opCount(2)]).toEqual([0, 0, 2]);
    r.close();
    expect(readOps(output, 2).map((o) => o.addr)).toEqual([0x1000, 0x2000]);
  });

  it('handles lines that straddle its 1 MiB read blocks', () => {
    const input = tmp('big.lackey'), output = tmp('big.trace');
    const lines: string[] = [];
    for (let i = 0; i < 90_000; i++) lines.push(i % 3 === 0 ? `I  ${(0x400000 + i * 4).toString(16).padStart(8, '0')},4` : ` L ${(0x1ffe000000 + i * 8).toString(16)},8`);
    fs.writeFileSync(input, lines.join('\n') + '\n');
    expect(fs.statSync(input).size).toBeGreaterThan(1.3 * 2 ** 20);
    const res = importLackey(input, output);
    expect(res).toEqual({ records: 90_000, fetches: 30_000, loads: 60_000, stores: 0, ops: 90_000 });
    const ops = readOps(output);
    expect(ops.length).toBe(90_000);
    for (const i of [0, 1, 45_678, 89_999]) expect(ops[i]!.addr).toBe(i % 3 === 0 ? 0x400000 + i * 4 : 0x1ffe000000 + i * 8);
  });

  it('a malformed line is a UserError naming file:line and the expected form, and leaves no output', () => {
    const cases: [string, RegExp][] = [
      ['X 1000,4', /expected "\[ I\| L\| S\| M\] <hex addr>,<size>", got "X 1000,4"/],
      [' L 10zz,4', /expected/],
      [' L 1000', /expected/],
      [' L 1000,', /expected/],
      [' L 1000,4 trailing', /expected/],
      ['L1000,4', /expected/],
      [' L 1000,0', /access size 0/],
      [' S fffffffffffff000,8', /does not fit below 2\^53/],
    ];
    for (const [bad, msg] of cases) {
      const input = tmp('bad.lackey'), output = tmp('bad.trace');
      fs.writeFileSync(input, `==1== hi\nI  1000,4\n L 2000,8\n${bad}\n S 3000,8\n`);
      let err: unknown;
      try { importLackey(input, output); } catch (e) { err = e; }
      expect(err, bad).toBeInstanceOf(UserError);
      expect((err as Error).message).toContain(`${input}:4: `);
      expect((err as Error).message).toMatch(msg);
      expect(fs.existsSync(output)).toBe(false);
      expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    }
  });

  it('a log with no records, a missing input, a bad agent', () => {
    const input = tmp('none.lackey'), output = tmp('none.trace');
    fs.writeFileSync(input, '==1== Lackey\n==1== Command: x\n');
    expect(() => importLackey(input, output)).toThrow(/no access records.*--trace-mem=yes/);
    expect(fs.existsSync(output)).toBe(false);
    expect(() => importLackey(tmp('missing.lackey'), output)).toThrow(UserError);
    expect(() => importLackey(tmp('missing.lackey'), output)).toThrow(/missing\.lackey: cannot read/);
    expect(() => importLackey(input, output, { agent: -1 })).toThrow(/agent -1/);
  });

  const valgrind = '/usr/bin/valgrind';
  it.skipIf(!fs.existsSync(valgrind))('imports a real lackey log of /bin/true', () => {
    const log = tmp('true.lackey'), output = tmp('true.trace');
    const run = spawnSync(valgrind, ['--tool=lackey', '--trace-mem=yes', `--log-file=${log}`, '/bin/true'], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    // Count records independently of the importer.
    const counts = { I: 0, L: 0, S: 0, M: 0 };
    let split = 0;
    const lines = fs.readFileSync(log, 'latin1').split('\n');
    let first: { kind: string; addr: number; size: number } | undefined;
    for (const line of lines) {
      const m = /^(I | L| S| M) ([0-9a-f]+),(\d+)$/.exec(line);
      if (!m) { expect(line === '' || line.startsWith('==')).toBe(true); continue; }
      const kind = m[1]!.trim() as keyof typeof counts, size = Number(m[3]);
      counts[kind]++;
      split += (kind === 'M' ? 2 : 1) * Math.ceil(size / 64);
      first ??= { kind, addr: parseInt(m[2]!, 16), size };
    }
    const res = importLackey(log, output);
    expect(res.records).toBe(counts.I + counts.L + counts.S + counts.M);
    expect(res.records).toBeGreaterThan(10_000);
    expect(res).toEqual({ records: res.records, fetches: counts.I, loads: counts.L + counts.M, stores: counts.S + counts.M, ops: split });
    const ops = readOps(output);
    expect(ops.length).toBe(res.ops);
    expect(ops[0]).toMatchObject({ op: first!.kind === 'I' ? I : first!.kind === 'S' ? S : L, addr: first!.addr, size: Math.min(64, first!.size) });
  }, 60_000);
});
