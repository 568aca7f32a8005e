/**
 * "trace replay ops/s": a 10M-op trace replayed on the default platform with one PE. Written for
 * the foundation, before the platform had caches, when every op reached the DRAM controller
 * (PE + home node + DRAM timing); the target of 3 million ops per second on one core was set for
 * that path. Since the cache hierarchy landed the same trace goes through L1D/L2/L3 first: the
 * sequential runs hit, and each random jump (10% of ops) misses to DRAM through the whole
 * hierarchy, so the figure now measures a different, heavier path than the target was set for.
 *
 * The trace (8-byte accesses, 70% loads, mostly sequential with 10% random jumps in a 64 MiB
 * buffer, seeded) is written once to the OS temp directory and reused by later runs.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../src/sim/index.js';
import { OpCode, TraceOpSource, TraceReader, TraceWriter, openTraceCursors } from '../src/core/index.js';
import { PRESETS, System } from '../src/platform/index.js';
import { resolveConfig } from '../src/sim/config.js';
import { PlatformSchema } from '../src/platform/schema.js';
import { registerBench, type BenchResult } from './harness.js';

const OPS = 10_000_000;
const TARGET_MOPS = 3;

function traceFile(): string {
  const path = join(tmpdir(), `armsim-bench-replay-${OPS}-v2.trace`);
  if (existsSync(path)) return path;
  const w = TraceWriter.create(path, { agents: 1, addressKind: 'physical', source: 'bench' });
  const rng = new Rng(42);
  const base = 0x80_0000_0000, span = 64 * 1024 * 1024;
  let off = 0;
  for (let i = 0; i < OPS; i++) {
    if (rng.nextU32() % 10 === 0) off = rng.nextInt(span / 8) * 8;
    const isStore = rng.nextU32() % 10 < 3;
    w.push(0, isStore ? OpCode.Store : OpCode.Load, base + off, 8, i >>> 0, 0);
    off = (off + 8) % span;
  }
  w.close();
  return path;
}

function replayOnce(path: string): BenchResult {
  const cfg = resolveConfig(PlatformSchema, PRESETS['neoverse-n1'], { sets: ['core.count=1'] });
  const reader = TraceReader.open(path);
  const cursors = openTraceCursors(reader);      // as `armsim replay` reads it
  const t0 = performance.now();
  const sys = new System(cfg, 1);
  sys.attach(0, new TraceOpSource(cursors.cursors[0]!, 'bench'));
  const out = sys.run();
  const ms = performance.now() - t0;
  cursors.close();
  reader.close();
  const pe = sys.pes[0]!;
  const ops = pe.stats.loads + pe.stats.stores;
  if (out.endReason !== 'done' || ops !== OPS) throw new Error(`replay bench: ${out.endReason}, ${ops} ops`);
  return {
    name: 'trace replay ops/s, PE + DRAM (1 PE, neoverse-n1)',
    metric: '10M-op trace',
    value: ops / ms / 1000,
    unit: 'Mops/s',
    target: TARGET_MOPS,
    higherIsBetter: true,
    detail: { ops, ms: Math.round(ms), events: out.events, eventsPerOp: Math.round((out.events / ops) * 100) / 100, simulatedCycles: out.cycles },
  };
}

registerBench({
  name: 'replay',
  run: () => {
    const path = traceFile();
    // Best of two runs: the machine is shared, and the first run also warms the JIT.
    const a = replayOnce(path), b = replayOnce(path);
    return [a.value >= b.value ? a : b];
  },
});
