import { PRESETS, DEFAULT_PLATFORM } from '../platform/index.js';
import { SCENARIOS } from '../../workloads/index.js';

export function listText(): string {
  const w = Math.max(...SCENARIOS.map((s) => s.name.length), ...Object.keys(PRESETS).map((k) => k.length)) + 2;
  const lines = ['Scenarios:'];
  for (const s of SCENARIOS) lines.push(`  ${s.name.padEnd(w)}${s.description}`);
  lines.push('', 'Platforms:');
  for (const [name, p] of Object.entries(PRESETS)) lines.push(`  ${name.padEnd(w)}${p.description}${name === DEFAULT_PLATFORM ? ' (default)' : ''}`);
  return lines.join('\n') + '\n';
}
