import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/**
 * Forces a full garbage collection (tests that measure live memory). The first call turns on V8's
 * `--expose-gc` for this process — a test-only helper, never imported by the library.
 */
export function gc(): void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}
