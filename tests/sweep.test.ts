import { describe, expect, it, beforeAll } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armsim, type CliResult } from './cli-helpers.js';

/** The cmo-strategies suite at tiny sizes (64 KiB and 256 KiB images, 1 MiB of guest RAM) on two platforms. */
const SUITE = ['bench', 'cmo-strategies', '--quick', '--platform', 'xgene1,grace', '--axis', 'ram=1MiB'];

interface Rec { key: string; platform: string; coords: Record<string, string>; verdict: string; measured: Record<string, unknown>; host?: unknown }
interface Summary { records: Rec[]; skippedCells: { key: string; reason: string }[]; cells: number; pass: number; fail: number; error: number; host: { ran: number; resumed: number } }

const withoutHost = ({ host: _h, ...r }: Rec) => r;
/** The jsonl in key order, without host fields. */
function jsonl(dir: string): Rec[] {
  return readFileSync(join(dir, 'records.jsonl'), 'utf8').trim().split('\n').map((l) => withoutHost(JSON.parse(l) as Rec)).sort((a, b) => (a.key < b.key ? -1 : 1));
}
function summaryOf(r: CliResult): Summary {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as Summary;
}

/** A user error: exit 2, one line on stderr naming `mention`, nothing on stdout. */
function expectUserError(args: string[], mention: string): void {
  const r = armsim(args);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toContain(mention);
}

describe('armsim bench cmo-strategies', () => {
  const dir1 = mkdtempSync(join(tmpdir(), 'armsim-sweep-j1-'));
  const dir2 = mkdtempSync(join(tmpdir(), 'armsim-sweep-j2-'));
  let s1: Summary, s2: Summary;
  beforeAll(() => {
    s1 = summaryOf(armsim([...SUITE, '--jobs', '1', '--out', dir1, '--json']));
    s2 = summaryOf(armsim([...SUITE, '--jobs', '2', '--out', dir2, '--json']));
  }, 60_000);

  it('gives identical records with --jobs 1 and --jobs 2 (host fields aside)', () => {
    expect(s1.cells).toBe(2 * 7 * 2);
    expect(s1.records).toHaveLength(26);
    expect(s2.records).toEqual(s1.records);
    expect(jsonl(dir2)).toEqual(jsonl(dir1));
    expect(readFileSync(join(dir2, 'records.csv'), 'utf8')).toBe(readFileSync(join(dir1, 'records.csv'), 'utf8'));
    expect(readFileSync(join(dir1, 'records.csv'), 'utf8').split('\n')[0]).toBe(
      'suite,key,scenario,platform,cmo,image,ram,seed,verdict,cycles,staleBytes.bytes,correct.value,cmoCycles.cycles,s2Faults.faults,bootCycles.cycles,failed,error');
  });

  it('shows the seed 003 outcomes: stale on xgene1 without maintenance or with set/way, correct with VA maintenance; fwb skipped on xgene1 and free on grace', () => {
    expect([s1.pass, s1.fail, s1.error]).toEqual([26, 0, 0]);
    const at = (platform: string, cmo: string, image = '256KiB') => s1.records.find((r) => r.platform === platform && r.coords.cmo === cmo && r.coords.image === image)!;
    for (const cmo of ['none', 'set-way-at-start']) {
      expect(at('xgene1', cmo).measured['correct.value']).toBe(false);
      expect(at('xgene1', cmo).measured['staleBytes.bytes']).toBe(256 * 1024);
    }
    for (const platform of ['xgene1', 'grace']) {
      for (const cmo of ['clean-all-at-start', 'clean-on-s2-fault', 'vmm-clean-loaded', 'hcr-dc']) {
        expect(at(platform, cmo).measured['correct.value'], `${platform} ${cmo}`).toBe(true);
        expect(at(platform, cmo).measured['staleBytes.bytes']).toBe(0);
      }
    }
    expect(at('grace', 'set-way-at-start').measured['correct.value']).toBe(true);   // the system cache is at the PoC
    expect(at('grace', 'fwb').measured['cmoCycles.cycles']).toBe(0);
    expect(at('grace', 'fwb').measured['correct.value']).toBe(true);
    // vmm-clean-loaded grows with the image size.
    expect(at('xgene1', 'vmm-clean-loaded').measured['cmoCycles.cycles'] as number).toBeGreaterThan(2 * (at('xgene1', 'vmm-clean-loaded', '64KiB').measured['cmoCycles.cycles'] as number));
    expect(s1.skippedCells.map((c) => c.key)).toEqual([
      'guest-boot-mmu-off/xgene1/cmo=fwb/image=64KiB/ram=1MiB/seed=1',
      'guest-boot-mmu-off/xgene1/cmo=fwb/image=256KiB/ram=1MiB/seed=1',
    ]);
    expect(s1.skippedCells[0]!.reason).toMatch(/FEAT_S2FWB/);
  });

  it('--resume reruns only the cells missing from DIR (a deleted record, a line cut short)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'armsim-sweep-resume-'));
    cpSync(dir1, dir, { recursive: true });
    const lines = readFileSync(join(dir, 'records.jsonl'), 'utf8').trimEnd().split('\n');
    const gone = lines.findIndex((l) => (JSON.parse(l) as Rec).key.includes('/xgene1/cmo=clean-on-s2-fault/image=64KiB/'));
    const dropped = JSON.parse(lines[gone]!) as Rec;
    const kept = lines.filter((_, i) => i !== gone);
    writeFileSync(join(dir, 'records.jsonl'), kept.join('\n') + '\n{"suite":"cmo-strat');    // interrupted mid-write
    const s = summaryOf(armsim([...SUITE, '--jobs', '2', '--out', dir, '--resume', '--json']));
    expect(s.host).toMatchObject({ ran: 1, resumed: 25 });
    expect(s.records).toEqual(s1.records);
    const after = readFileSync(join(dir, 'records.jsonl'), 'utf8').trimEnd().split('\n');
    expect(after.slice(0, kept.length)).toEqual(kept);                 // finished runs untouched
    expect(after).toHaveLength(kept.length + 1);
    expect(withoutHost(JSON.parse(after.at(-1)!) as Rec)).toEqual(withoutHost(dropped));
    expect(readFileSync(join(dir, 'records.csv'), 'utf8')).toBe(readFileSync(join(dir1, 'records.csv'), 'utf8'));
  });

  it('prints a table and nothing else when stdout is not a TTY', () => {
    const dir = mkdtempSync(join(tmpdir(), 'armsim-sweep-table-'));
    cpSync(dir1, dir, { recursive: true });
    const r = armsim([...SUITE, '--out', dir, '--resume']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toMatch(/\r|\x1b/);
    const lines = r.stdout.split('\n');
    expect(lines[1]).toMatch(/^platform\s+cmo\s+image\s+ram\s+verdict\s+staleBytes\s+correct\s+cmoCycles\s+s2Faults\s+bootCycles\s+cycles$/);
    expect(lines.filter((l) => /^(xgene1|grace) /.test(l))).toHaveLength(26);
    expect(r.stdout).toMatch(/skipped 2 cells on xgene1: hyp\.cmo=fwb needs FEAT_S2FWB/);
  });
});

describe('armsim bench pmem-strategies', () => {
  it('keeps every record with DC CVAP where FEAT_DPB exists, with DC CVAC only where the PoC is memory, and costs more the farther it must reach', () => {
    const dir = mkdtempSync(join(tmpdir(), 'armsim-sweep-pmem-'));
    const s = summaryOf(armsim(['bench', 'pmem-strategies', '--quick', '--out', dir, '--json']));
    expect([s.cells, s.pass, s.fail, s.error]).toEqual([3 * 3 * 2, 18, 0, 0]);
    const at = (platform: string, strategy: string, record = '256') => s.records.find((r) => r.platform === platform && r.coords.strategy === strategy && r.coords.record === record)!.measured;
    // kept of 8 records: [none, cvac, cvap]
    const kept = (platform: string) => ['none', 'cvac', 'cvap'].map((st) => at(platform, st)['survived.records']);
    expect(kept('neoverse-n1')).toEqual([0, 0, 8]);    // DC CVAC stops in the system cache at the PoC
    expect(kept('grace')).toEqual([0, 0, 8]);
    expect(kept('xgene1')).toEqual([0, 8, 0]);         // the PoC is memory; DC CVAP is UNDEFINED on ARMv8.0
    expect(at('xgene1', 'cvap')['maintenance.undefinedInstructions']).toBe(8 * 4);
    const cost = (st: string) => at('neoverse-n1', st)['cyclesPerRecord.mean'] as number;
    expect(cost('cvap')).toBeGreaterThan(cost('cvac'));
    expect(cost('cvac')).toBeGreaterThan(cost('none'));
    expect(at('neoverse-n1', 'cvap', '256')['cyclesPerRecord.mean'] as number).toBeGreaterThan(at('neoverse-n1', 'cvap', '64')['cyclesPerRecord.mean'] as number);
  });
});

describe('armsim bench dirty-log-modes', () => {
  it('logs every written page in both modes; dbm takes no write faults and is skipped where FEAT_HAFDBS dirty state is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'armsim-sweep-dirty-'));
    const r = armsim(['bench', 'dirty-log-modes', '--quick', '--out', dir, '--json']);
    const s = summaryOf(r);
    // 3 platforms x 2 modes x 2 sizes; xgene1's two dbm cells skipped.
    expect([s.cells, s.pass, s.fail, s.error]).toEqual([12, 10, 0, 0]);
    expect(s.skippedCells.map((c) => c.reason)).toEqual(Array(2).fill('hyp.dirtyLog=dbm needs FEAT_HAFDBS dirty state (mmu.features.hafdbs=2)'));
    const at = (platform: string, mode: string, pages = '64') => s.records.find((x) => x.platform === platform && x.coords.mode === mode && x.coords.pages === pages)!.measured;
    for (const p of ['neoverse-n1', 'grace']) {
      expect(at(p, 'dbm')['faults.dirtyLogFaults']).toBe(0);
      expect(at(p, 'wp')['faults.dirtyLogFaults']).toBe(at(p, 'wp')['dirtyLog.pagesLogged']);
      expect(at(p, 'dbm')['cycles.guest'] as number).toBeLessThan(at(p, 'wp')['cycles.guest'] as number);
    }
    expect(s.records.every((x) => x.measured['dirtyLog.missed'] === 0)).toBe(true);
  });
});

describe('armsim bench: bad input exits 2 with one line naming the flag', () => {
  it.each([
    [['bench', 'cmo-strategies', '--bogus'], "unknown option '--bogus'"],
    [['bench', 'cmo-strategies', '--jobs', 'two'], '--jobs'],
    [['bench', 'cmo-strategies', '--platform', 'xgene1,m1'], '--platform'],
    [['bench', 'cmo-strategies', '--axis', 'cmo=sometimes'], '--axis cmo'],
    [['bench', 'cmo-strategies', '--axis', 'l3=1MiB'], '--axis'],
    [['bench', 'no-such-suite'], "unknown suite 'no-such-suite'"],
  ])('%j', (args, mention) => expectUserError(args, mention));

  it('refuses an --out that already holds records unless --resume', () => {
    const dir = mkdtempSync(join(tmpdir(), 'armsim-sweep-busy-'));
    writeFileSync(join(dir, 'records.jsonl'), '{"suite":"cmo-strategies","key":"x"}\n');
    expectUserError(['bench', 'cmo-strategies', '--out', dir], '--resume');
  });
});
