import type { ParseArgsConfig } from 'node:util';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { UserError } from '../sim/index.js';
import { parseCommandArgs } from './args.js';
import { SmmuWorkerError } from '../smmu/index.js';
import { runScenarioCommand, runReplayCommand, timelineFlags, type RunFlags } from './run.js';
import { listText } from './list.js';
import { runAttrsCommand } from './attrs.js';
import { runSmmuCommand } from './smmu.js';
import { runBenchCommand } from './bench.js';
import { runReportCommand } from './report.js';
import { importLackey } from '../core/index.js';

const VERSION = packageVersion();

/** The version in package.json, found by walking up from this file (works from src/ and dist/). */
function packageVersion(): string {
  let dir = new URL('.', import.meta.url);
  for (let i = 0; i < 6; i++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'armsim' && pkg.version) return pkg.version;
    } catch { /* not here: go up */ }
    dir = new URL('..', dir);
  }
  return 'unknown';
}

const HELP = `armsim ${VERSION} — a cycle-level simulator of the ARMv8-A memory system

Usage:
  armsim run <scenario|path> [options]     run a workload scenario and check its outcome
  armsim replay <trace> [options]          replay a binary trace (one agent per PE)
  armsim trace import --from lackey <file> -o <out>
                                           convert valgrind --tool=lackey --trace-mem=yes output
  armsim list                              scenarios and platform presets
  armsim attrs [--json '<object>']         final memory attributes of one access (JSON Lines on stdin)
  armsim smmu decode --kind K --hex BYTES  decode an SMMUv3 STE, CD, command or event record
  armsim bench <suite> [options]           run a suite's grid of scenarios on a worker pool
  armsim report DIR [--out FILE.html]      a sweep's records as an HTML page (inline SVG plots) and DIR/report.md
  armsim <command> --help                  help for one command
  armsim --version

Run options (run, replay):
  --platform NAME      platform preset (armsim list shows them)
  --set KEY=VALUE      override a platform key (dram.channels=2) or a scenario
                       parameter (scenario.bytes=1MiB); repeatable, applied in order
  --config FILE        platform overrides from a JSON or YAML file (before --set)
  --seed N             random seed (default 1)
  --max-cycles N       stop after N simulated cycles
  --json               print one JSON object instead of the summary
  --timeline FILE      write a Chrome/Perfetto trace-event file of the run (open it in
                       ui.perfetto.dev): 1 simulated cycle = 1 ns in ts/dur
  --timeline-window START:END
                       record only spans starting in cycles [START, END) (either side may be empty)
  --timeline-max-events N
                       keep at most N events (default 1000000), then stop and mark it truncated
  --smmu-threads N     run the SMMU's translation engine inline (0, default) or in a worker
                       thread (1); results are identical, only the host time differs

Exit codes: 0 pass, 1 the outcome check failed, 2 bad input, 3 internal error.
`;

const TIMELINE_HELP = `
--timeline FILE writes a trace-event file (JSON, {"traceEvents": [...]}) for ui.perfetto.dev or
chrome://tracing, at the end of the run. Time: 1 simulated cycle = 1 ns (ts and dur are cycles
divided by 1000, the format's microseconds). Tracks: per PE (process system.cpuN) its own track
(stage-2 fault handling from fault to resume with the IPA and the hypervisor's decision; DSBs and
the TLBIs they complete), 'walks' (translation table walks) and lanes 'ops K' (each load, store,
fetch, atomic and DC/IC maintenance operation from issue to completion, maintenance with its
reach: PoC, PoU or a set/way level); per cache instance (system.cpuN.l1i/l1d, the L2s,
system.l3) lanes for misses to their fill, memory fills, write-backs, snoops received and the
maintenance each DC/IC op does there; per SMMU (system.smmu0) its commands and the translations of
each device; per DMA device (system.smmu0.dma0, system.smmu0.stream0) its jobs or requests.
--timeline-window START:END keeps spans that start in cycles [START, END); --timeline-max-events N
(default 1000000) stops recording at N events and ends the file with a 'timeline truncated' event.
`;
const RUN_HELP = `Usage: armsim run <scenario|path> [--platform NAME] [--set k=v]... [--config FILE] [--seed N] [--max-cycles N] [--json]
                  [--timeline FILE [--timeline-window START:END] [--timeline-max-events N]]

Runs a scenario (a name from 'armsim list', or a path to a scenario module) on a platform and
checks its outcome. Platform keys and scenario parameters are set with --set; scenario
parameters are prefixed 'scenario.' (e.g. --set scenario.bytes=16MiB).
${TIMELINE_HELP}`;
const REPLAY_HELP = `Usage: armsim replay <trace> [--platform NAME] [--set k=v]... [--config FILE] [--seed N] [--max-cycles N] [--json]
                     [--timeline FILE [--timeline-window START:END] [--timeline-max-events N]]

Replays a binary trace (from 'armsim trace import'), agent i on PE i; the platform gets one PE
per agent unless --set core.count says otherwise. Traces of virtual
addresses (lackey) are placed in the first DRAM region by taking each address modulo the
largest power of two that fits in it, which keeps the low address bits (cache indexing).
With --json the result adds "ops": the memory accesses replayed.
${TIMELINE_HELP}`;
const IMPORT_HELP = `Usage: armsim trace import --from lackey <file> -o <out>

Converts the output of 'valgrind --tool=lackey --trace-mem=yes' into armsim's binary trace.
I records become fetches, L loads, S stores, and M a load then a store of the same address.
`;

const RUN_OPTIONS = {
  platform: { type: 'string' },
  set: { type: 'string', multiple: true },
  config: { type: 'string' },
  seed: { type: 'string' },
  'max-cycles': { type: 'string' },
  json: { type: 'boolean' },
  timeline: { type: 'string' },
  'timeline-window': { type: 'string' },
  'timeline-max-events': { type: 'string' },
  'smmu-threads': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

/** The command line, start to finish. Returns the exit code; never throws. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    return await dispatch(argv);
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`armsim: ${e.message}\n`);
      return 2;
    }
    if (e instanceof SmmuWorkerError) {
      process.stderr.write(`armsim: ${e.message}\n`);   // one line: the worker's own message, no stack of the main thread
      return 3;
    }
    process.stderr.write(`armsim: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 3;
  }
}

async function dispatch(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') { process.stdout.write(HELP); return 0; }
  if (cmd === '--version' || cmd === '-v') { process.stdout.write(`${VERSION}\n`); return 0; }
  switch (cmd) {
    case 'list':
      if (rest.includes('--help')) { process.stdout.write('Usage: armsim list\n\nLists scenarios, platform presets and the architecture features the model does (and does not) implement.\n'); return 0; }
      if (rest.length > 0) throw new UserError(`list: unexpected argument '${rest[0]}' (list takes none)`);
      process.stdout.write(listText());
      return 0;
    case 'attrs': return runAttrsCommand(rest);
    case 'smmu': return runSmmuCommand(rest);
    case 'bench': return runBenchCommand(rest);
    case 'report': return runReportCommand(rest);
    case 'run': {
      const { positionals, flags, help } = parseRun('run', rest);
      if (help) { process.stdout.write(RUN_HELP); return 0; }
      if (positionals.length !== 1) throw new UserError(`run: expected one scenario name or path (got ${positionals.length}); 'armsim list' shows the scenarios`);
      return runScenarioCommand(positionals[0]!, flags);
    }
    case 'replay': {
      const { positionals, flags, help } = parseRun('replay', rest);
      if (help) { process.stdout.write(REPLAY_HELP); return 0; }
      if (positionals.length !== 1) throw new UserError(`replay: expected one trace file (got ${positionals.length})`);
      return runReplayCommand(positionals[0]!, flags);
    }
    case 'trace': {
      const [sub, ...args] = rest;
      if (sub === '--help' || sub === undefined) { process.stdout.write(IMPORT_HELP); return 0; }
      if (sub !== 'import') throw new UserError(`trace: unknown subcommand '${sub}' (accepted: import)`);
      const p = parseCommandArgs('trace import', args, { from: { type: 'string' }, out: { type: 'string', short: 'o' }, help: { type: 'boolean', short: 'h' } });
      if (p.values.help) { process.stdout.write(IMPORT_HELP); return 0; }
      if (p.values.from !== 'lackey') throw new UserError(`trace import: --from must be one of lackey (got ${p.values.from === undefined ? 'nothing' : `'${p.values.from}'`})`);
      if (p.positionals.length !== 1) throw new UserError('trace import: expected one input file');
      if (p.values.out === undefined) throw new UserError('trace import: -o <out> is required');
      const r = await importLackey(p.positionals[0]!, p.values.out);
      process.stdout.write(`${basename(p.values.out)}: ${r.records} records -> ${r.ops} ops (${r.fetches} fetches, ${r.loads} loads, ${r.stores} stores)\n`);
      return 0;
    }
    default:
      throw new UserError(`unknown command '${cmd}' (accepted: run, replay, trace, list, attrs, smmu, bench, report, --help, --version)`);
  }
}

function parseRun(cmd: string, args: readonly string[]): { positionals: string[]; flags: RunFlags; help: boolean } {
  const p = parseCommandArgs(cmd, args, RUN_OPTIONS);
  const v = p.values;
  return {
    positionals: p.positionals,
    help: v.help === true,
    flags: {
      platform: v.platform,
      // --smmu-threads is the platform key smmu.threads, applied after every --set.
      sets: [...(v.set ?? []), ...(v['smmu-threads'] === undefined ? [] : [`smmu.threads=${intFlag('--smmu-threads', v['smmu-threads'], 0, 1)}`])],
      config: v.config,
      seed: v.seed === undefined ? 1 : intFlag('--seed', v.seed, 0, 2 ** 32 - 1),
      maxCycles: v['max-cycles'] === undefined ? undefined : intFlag('--max-cycles', v['max-cycles'], 1, Number.MAX_SAFE_INTEGER),
      json: v.json === true,
      timeline: timelineFlags(v.timeline, v['timeline-window'],
        v['timeline-max-events'] === undefined ? undefined : intFlag('--timeline-max-events', v['timeline-max-events'], 1, Number.MAX_SAFE_INTEGER)),
    },
  };
}

function intFlag(name: string, s: string, min: number, max: number): number {
  const n = /^(0x[0-9a-f_]+|\d[\d_]*)$/i.test(s) ? Number(s.replace(/_/g, '')) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UserError(`${name} must be an integer from ${min} to ${max} (got '${s}')`);
  return n;
}
