import { PipelineError, type PipelineProblem } from '@engram/core';

const pointerSegment = (token: string): string => token.replace(/~/g, '~0').replace(/\//g, '~1');

/** One `--set path=value` from the command line, parsed. */
export interface PipelineOverride {
  /** Where it goes, as a JSON pointer (`/training/epochs`), whichever form was typed. */
  readonly pointer: string;
  /** The value: the text parsed as JSON, or the text itself when it is not JSON. */
  readonly value: unknown;
  /** The flag as typed (`training.epochs=3`), for error messages. */
  readonly text: string;
}

/** Tokens that reach an object's prototype instead of a pipeline field. */
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Parses one `--set` flag. The path before the first `=` is a JSON pointer when it starts with `/`
 * (`/training/epochs`, `/strategy/0/lambda`; `~1` and `~0` escape `/` and `~`), otherwise a dotted
 * path (`training.epochs`, `strategy.0.lambda`: a number is an array index; a key holding a dot
 * needs the pointer form). The value after it is parsed as JSON (`3`, `true`, `[1,2]`, `"7"`); text
 * that is not JSON is kept as a string (`output.dir=runs/a`). Throws a {@link PipelineError} at
 * `--set` for a flag without `=` or with an empty or forbidden path.
 */
export function parseOverride(text: string): PipelineOverride {
  const eq = text.indexOf('=');
  if (eq <= 0) throw PipelineError.at('--set', `"${text}" is not path=value (e.g. training.epochs=3)`);
  const path = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  let tokens: string[];
  if (path.startsWith('/')) {
    if (!/^(\/([^~/]|~[01])*)+$/.test(path))
      throw PipelineError.at('--set', `"${path}" is not a JSON pointer (e.g. /training/epochs)`);
    tokens = path
      .slice(1)
      .split('/')
      .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  } else {
    tokens = path.split('.');
    if (tokens.some((t) => t === ''))
      throw PipelineError.at('--set', `"${path}" has an empty segment (dotted paths look like training.epochs)`);
  }
  const bad = tokens.find((t) => FORBIDDEN.has(t));
  if (bad !== undefined)
    throw PipelineError.at('--set', `"${bad}" is not allowed in a path (no pipeline field has that name)`);
  let value: unknown;
  try {
    value = JSON.parse(raw) as unknown;
  } catch {
    value = raw;
  }
  return { pointer: `/${tokens.map(pointerSegment).join('/')}`, value, text };
}

/**
 * Applies parsed overrides in order to a parsed pipeline document (mutated) before it is validated.
 * Missing objects on the way are created (`output.dir` in a document without `output`); an array
 * index must exist or be the array's length (appends). A path through a number, string, boolean or
 * null is a {@link PipelineError} at the pointer where it breaks; `file` names the pipeline.
 */
export function applyOverrides(doc: unknown, overrides: readonly PipelineOverride[], file: string): void {
  for (const o of overrides) {
    const tokens = o.pointer
      .slice(1)
      .split('/')
      .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
    let node: unknown = doc;
    tokens.forEach((token, i) => {
      const last = i === tokens.length - 1;
      const here = `/${tokens.slice(0, i).map(pointerSegment).join('/')}`;
      const fail = (message: string): never => {
        throw new PipelineError([{ path: o.pointer, message: `--set ${o.text}: ${message}` }], file);
      };
      if (Array.isArray(node)) {
        const index = Number(token);
        if (!/^\d+$/.test(token) || index > node.length)
          fail(`${here} is an array of ${node.length}, no index ${token}`);
        if (last) node[index] = o.value;
        else {
          if (node[index] === undefined) node[index] = {};
          node = node[index] as unknown;
        }
      } else if (node !== null && typeof node === 'object') {
        const obj = node as Record<string, unknown>;
        if (last || !Object.hasOwn(obj, token))
          Object.defineProperty(obj, token, {
            value: last ? o.value : {},
            enumerable: true,
            writable: true,
            configurable: true,
          });
        node = obj[token];
      } else {
        fail(
          `${here === '/' ? 'the document' : here} is ${node === null ? 'null' : typeof node}, not an object or array`,
        );
      }
    });
  }
}

/**
 * Says which `--set` wrote the field of each problem (`/training/epochs: must be >= 1 (from --set
 * training.epochs=0)`), so an error caused by a flag is not looked for in the file. Called on the
 * validation error of a document that had overrides applied.
 */
export function attributeProblems(
  problems: readonly PipelineProblem[],
  overrides: readonly PipelineOverride[],
): PipelineProblem[] {
  return problems.map((p) => {
    const from = [...overrides]
      .reverse()
      .find(
        (o) =>
          p.path === o.pointer ||
          p.path.startsWith(`${o.pointer}/`) ||
          (p.path !== '' && o.pointer.startsWith(`${p.path}/`)),
      );
    return from && !p.message.includes('--set') ? { ...p, message: `${p.message} (from --set ${from.text})` } : p;
  });
}
