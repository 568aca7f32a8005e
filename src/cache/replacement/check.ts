/** Argument check shared by the replacement policies: sets and ways are positive integers. */
export function checkSetsWays(what: string, sets: number, ways: number): void {
  if (!(Number.isInteger(sets) && sets >= 1)) throw new RangeError(`${what}: sets ${sets} must be a positive integer`);
  if (!(Number.isInteger(ways) && ways >= 1 && ways <= 256)) throw new RangeError(`${what}: ways ${ways} must be an integer in 1..256`);
}
