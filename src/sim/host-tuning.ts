/**
 * V8's inlining budgets, raised for the simulator. TurboFan inlines a callee only while its
 * bytecode and the caller's running total stay under `--max-inlined-bytecode-size` (460) and
 * `--max-inlined-bytecode-size-cumulative` (920), figures tuned for web pages. The simulator's hot
 * paths are chains of mid-sized methods (the PE's issue path, the hierarchy's miss path), and a
 * call that is not inlined also boxes every address-sized double passed to it as a heap number.
 * Raised budgets made the xz trace replay ~10% faster and the miss-heavy one ~5% (`npm run bench`,
 * alternating runs with `ARMSIM_V8_TUNING=0`). Results do not change: inlining is invisible to
 * JavaScript semantics.
 *
 * Only long runs gain: larger inlined units take longer to compile, and a sweep of short scenario
 * runs (the README's `armsim bench cmo-strategies`, each cell compiled afresh in a worker) took
 * ~8% longer with them. So `armsim replay` and the bench runner call it, `armsim run` and
 * `armsim bench` do not.
 *
 * The flags are process-wide (worker threads share them) and read when a function is optimized,
 * so `tuneV8()` must run before the simulation gets hot. A Node that refuses flags after start-up
 * runs untuned. `ARMSIM_V8_TUNING=0` turns it off.
 */
import { setFlagsFromString } from 'node:v8';

export const V8_TUNING_FLAGS: readonly string[] = ['--max-inlined-bytecode-size=1000', '--max-inlined-bytecode-size-cumulative=3000'];

let tuned = false;

/** Sets V8_TUNING_FLAGS once (unless ARMSIM_V8_TUNING=0); returns whether they are set. */
export function tuneV8(): boolean {
  if (tuned) return true;
  if (process.env['ARMSIM_V8_TUNING'] === '0') return false;
  try {
    setFlagsFromString(V8_TUNING_FLAGS.join(' '));
    tuned = true;
  } catch {
    // Flags frozen after initialization: the defaults stay.
  }
  return tuned;
}
