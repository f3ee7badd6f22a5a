/**
 * The line a reliability file prints for the cases one of its tests tried: `# reliability cases: <surface> <n>`.
 * `scripts/run-reliability.mjs` (`npm run test:reliability`) sums these lines over the whole suite, prints
 * `reliability cases tried: N (…)` and fails if a file reported none. A case is one distinct input or
 * moment that was tried and asserted; call once per test with the number that test tried.
 */
export function reportCases(surface: string, n: number): void {
  if (!/^[a-z0-9-]+$/.test(surface)) throw new Error(`surface "${surface}": lower-case words joined by -`);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${surface}: a test reports at least 1 case, got ${n}`);
  console.log(`# reliability cases: ${surface} ${n}`);
}
