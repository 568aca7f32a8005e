import { describe, expect, it } from 'vitest';
import { run } from './test-run.js';
import { SCENARIOS } from './index.js';

// A run that --max-cycles (or the watchdog) stops early is a failed check with the reason, never
// a crash of the check: checks must cope with phases that never finished.
describe('every scenario stopped after 5000 cycles fails its check cleanly', () => {
  for (const s of SCENARIOS) {
    it(s.name, async () => {
      const { code, r } = await run(s.name, { maxCycles: 5000 });
      if (r.end.reason === 'done') {
        // Over that soon (mte-on-pfnmap on its default platform: the memslot is refused, no vCPU runs).
        expect(code, JSON.stringify(r.checks)).toBe(0);
        return;
      }
      expect(code, JSON.stringify(r.checks)).toBe(1);
      expect(r.verdict).toBe('fail');
      expect(r.end.reason).toBe('max-cycles');
      expect(r.checks.completed!.pass).toBe(false);
    });
  }
});
