import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Forces a full garbage collection (tests that measure live memory). */
export function gc(): void {
  collect();
}
