import { pointerSegment, type PipelineProblem } from '../plugin-api/pipeline-error.js';

/** Deepest nesting of objects and arrays a pipeline document may have (real pipelines stay under 10). */
export const MAX_JSON_DEPTH = 64;

/**
 * Most values (objects, arrays, strings, numbers, literals) a pipeline document may hold: a pipeline
 * describes a run (real ones hold a few hundred); data belongs in files its data source reads. Checked
 * before the schema, so a huge document is refused in one pass instead of exhausting the validator.
 */
export const MAX_JSON_VALUES = 100_000;

/** Longest object key, in characters: keys are names (a huge one would make the typo hints quadratic). */
export const MAX_JSON_KEY = 256;

const tooMany = `the pipeline holds more than ${MAX_JSON_VALUES} values (here): a pipeline describes a run (its data belongs in a file that the data source reads)`;

interface Frame {
  readonly kind: 'object' | 'array';
  readonly pointer: string;
  /** Object keys seen so far. */
  readonly keys: Set<string>;
  /** Index of the next array element. */
  index: number;
  /** Key of the value being read (objects). */
  key: string | undefined;
}

/**
 * Checks what `JSON.parse` lets through silently, on text that already parsed: a key given twice in
 * one object (JSON.parse keeps the last: `"training"` twice would hide the first), nesting deeper
 * than {@link MAX_JSON_DEPTH} (recursive validators would overflow the stack), and number literals
 * that are not finite doubles (`1e400` parses as Infinity), more than {@link MAX_JSON_VALUES} values
 * and keys longer than {@link MAX_JSON_KEY}. Returns the problems with the JSON pointer of each;
 * iterative, so any depth is safe.
 */
export function scanJsonText(text: string): PipelineProblem[] {
  const problems: PipelineProblem[] = [];
  let values = 1;
  const stack: Frame[] = [];
  const here = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    return top.kind === 'array' ? `${top.pointer}/${top.index}` : `${top.pointer}/${pointerSegment(top.key ?? '')}`;
  };
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const raw = text.slice(i, j + 1);
      i = j;
      const top = stack[stack.length - 1];
      if (expectKey && top?.kind === 'object') {
        const key = JSON.parse(raw) as string;
        if (key.length > MAX_JSON_KEY) {
          top.key = `${key.slice(0, 20)}…`;
          problems.push({
            path: here(),
            message: `a key of ${key.length} characters, over the ${MAX_JSON_KEY}-character limit for a name`,
          });
          return problems;
        }
        top.key = key;
        if (top.keys.has(key))
          problems.push({
            path: here(),
            message: 'duplicate key: this object already has it (JSON keeps only the last)',
          });
        top.keys.add(key);
        expectKey = false;
      }
    } else if (ch === '{' || ch === '[') {
      if (stack.length >= MAX_JSON_DEPTH) {
        problems.push({ path: here(), message: `nested more than ${MAX_JSON_DEPTH} levels deep` });
        return problems;
      }
      stack.push({ kind: ch === '{' ? 'object' : 'array', pointer: here(), keys: new Set(), index: 0, key: undefined });
      expectKey = ch === '{';
    } else if (ch === '}' || ch === ']') {
      stack.pop();
    } else if (ch === ',') {
      if (++values > MAX_JSON_VALUES) {
        // pointed at the object or array being read when the count ran over (the huge one, usually)
        problems.push({ path: stack[stack.length - 1]?.pointer ?? '', message: tooMany });
        return problems;
      }
      const top = stack[stack.length - 1];
      if (top?.kind === 'array') top.index++;
      else expectKey = true;
    } else if (ch === '-' || (ch >= '0' && ch <= '9')) {
      let j = i + 1;
      while (j < text.length && /[0-9eE.+-]/.test(text[j] as string)) j++;
      const literal = text.slice(i, j);
      i = j - 1;
      if (!Number.isFinite(Number(literal)))
        problems.push({
          path: here(),
          message: `must be a finite number, got ${literal} (beyond the range of a double)`,
        });
    }
  }
  return problems;
}

/**
 * {@link scanJsonText} for a document already parsed (tests, embedding code): nesting deeper than
 * {@link MAX_JSON_DEPTH}, numbers that are not finite (NaN, ±Infinity) and more than
 * {@link MAX_JSON_VALUES} values, with their pointers.
 * Iterative; stops at the first over-deep branch.
 */
export function scanJsonValue(value: unknown): PipelineProblem[] {
  const problems: PipelineProblem[] = [];
  const todo: Array<{ v: unknown; path: string; depth: number }> = [{ v: value, path: '', depth: 0 }];
  let values = 0;
  while (todo.length > 0) {
    if (++values > MAX_JSON_VALUES) {
      problems.push({ path: '', message: tooMany });
      break;
    }
    const { v, path, depth } = todo.pop() as { v: unknown; path: string; depth: number };
    if (typeof v === 'number' && !Number.isFinite(v))
      problems.push({ path, message: `must be a finite number, got ${v}` });
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_JSON_DEPTH) {
      problems.push({ path, message: `nested more than ${MAX_JSON_DEPTH} levels deep` });
      break;
    }
    const entries: Array<[string, unknown]> = Array.isArray(v)
      ? v.map((x, i) => [String(i), x])
      : Object.entries(v as Record<string, unknown>);
    for (const [k, x] of entries) todo.push({ v: x, path: `${path}/${pointerSegment(k)}`, depth: depth + 1 });
  }
  return problems;
}

/**
 * The JSON pointer of the value at character `offset` of a JSON text (the innermost member or element
 * containing it; `''` at the top). Used to place problems found in the raw text (invalid UTF-8).
 */
export function pointerAt(text: string, offset: number): string {
  const stack: Array<{ kind: 'object' | 'array'; pointer: string; index: number; key: string }> = [];
  const here = (): string => {
    const top = stack[stack.length - 1];
    if (!top) return '';
    return top.kind === 'array' ? `${top.pointer}/${top.index}` : `${top.pointer}/${pointerSegment(top.key)}`;
  };
  let expectKey = false;
  for (let i = 0; i < text.length && i < offset; i++) {
    const ch = text[i] as string;
    if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top?.kind === 'object') {
        // the offset inside a key: the member it names
        try {
          top.key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          top.key = text.slice(i + 1, Math.min(j, i + 40));
        }
        expectKey = false;
      }
      i = j;
    } else if (ch === '{' || ch === '[') {
      stack.push({ kind: ch === '{' ? 'object' : 'array', pointer: here(), index: 0, key: '' });
      expectKey = ch === '{';
    } else if (ch === '}' || ch === ']') {
      stack.pop();
    } else if (ch === ',') {
      const top = stack[stack.length - 1];
      if (top?.kind === 'array') top.index++;
      else expectKey = true;
    }
  }
  return here();
}
