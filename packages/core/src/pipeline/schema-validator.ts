import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { TSchema } from '@sinclair/typebox';
import type { PipelineProblem } from '../plugin-api/pipeline-error.js';
import { didYouMean } from './closest-name.js';

const addFormats = addFormatsModule as unknown as { default: (ajv: Ajv2020) => Ajv2020 };

/** Compiled validators by schema text (a pipeline's composed schema is rebuilt, equal, for every document). */
const compiled = new Map<string, (value: unknown) => PipelineProblem[]>();
/** Most validators kept: one per distinct plugin set a process validates against. */
const MAX_COMPILED = 16;

/**
 * Compiles a JSON Schema (2020-12) into a validator that fills defaults in place and returns every
 * problem as `<JSON pointer>: <what was expected>`. A schema equal (as JSON) to one compiled before
 * reuses its validator: compiling a pipeline's composed schema costs far more than validating with it.
 */
export function compileSchema(schema: TSchema): (value: unknown) => PipelineProblem[] {
  const key = JSON.stringify(schema);
  const known = compiled.get(key);
  if (known) return known;
  const ajv = new Ajv2020({ allErrors: true, strict: false, useDefaults: true, discriminator: true, verbose: true });
  addFormats.default(ajv);
  const validate: ValidateFunction = ajv.compile(schema);
  const check = (value: unknown): PipelineProblem[] => (validate(value) ? [] : toProblems(validate.errors ?? []));
  if (compiled.size >= MAX_COMPILED) compiled.delete(compiled.keys().next().value as string);
  compiled.set(key, check);
  return check;
}

/** Turns ajv errors into deduplicated, readable problems. */
export function toProblems(errors: readonly ErrorObject[]): PipelineProblem[] {
  const out: PipelineProblem[] = [];
  const seen = new Set<string>();
  // A failed `if` only says which branch failed; the branch's own errors say why.
  for (const e of errors) {
    if (e.keyword === 'if' || e.keyword === 'oneOf' || e.keyword === 'anyOf') {
      if (errors.some((o) => o !== e && o.instancePath.startsWith(e.instancePath) && o.keyword !== e.keyword)) continue;
    }
    // A missing tag is reported by the discriminator (with the known values); `required` would repeat it.
    if (
      e.keyword === 'required' &&
      errors.some(
        (o) =>
          o.keyword === 'discriminator' &&
          o.instancePath === e.instancePath &&
          (o.params as { tag?: unknown }).tag === (e.params as { missingProperty?: unknown }).missingProperty,
      )
    )
      continue;
    // The union's `kind` enum (there for editors) repeats what the discriminator error says.
    if (
      e.keyword === 'enum' &&
      errors.some(
        (o) =>
          o.keyword === 'discriminator' &&
          `${o.instancePath}/${String((o.params as { tag?: unknown }).tag)}` === e.instancePath,
      )
    )
      continue;
    const p = describe(e);
    const key = `${p.path}\u0000${p.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(p);
    }
  }
  return out;
}

function describe(e: ErrorObject): PipelineProblem {
  const path = e.instancePath;
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return { path: `${path}/${String(params['missingProperty'])}`, message: 'is required' };
    case 'additionalProperties': {
      const props = Object.keys(
        (e.parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {},
      );
      const key = String(params['additionalProperty']);
      const allowed = props.length > 0 ? `${didYouMean(key, props)}; expected one of: ${props.join(', ')}` : '';
      return { path: `${path}/${key}`, message: `unknown property${allowed}` };
    }
    case 'discriminator': {
      const tag = String(params['tag']);
      const parent = e.parentSchema as
        { oneOf?: Array<{ properties?: Record<string, { const?: unknown }> }> } | undefined;
      const known = (parent?.oneOf ?? [])
        .map((b) => b.properties?.[tag]?.const)
        .filter((k) => k !== undefined)
        .map(String);
      if (params['error'] === 'tag')
        return { path: `${path}/${tag}`, message: `is required (a string, one of: ${known.join(', ')})` };
      const value = params['tagValue'];
      const hint = typeof value === 'string' ? didYouMean(value, known) : '';
      return {
        path: `${path}/${tag}`,
        message: `unknown ${tag} ${JSON.stringify(value)}${hint}; known: ${known.join(', ')}`,
      };
    }
    case 'enum':
      return {
        path,
        message: `must be one of: ${(params['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'const':
      return { path, message: `must be ${JSON.stringify(params['allowedValue'])}` };
    case 'type':
      return {
        path,
        message: `must be ${String(params['type'])}${e.data === undefined ? '' : `, got ${JSON.stringify(e.data)}`}`,
      };
    case 'not':
      return {
        path,
        message: (e.schema as { description?: string } | undefined)?.description ?? 'is not allowed here',
      };
    case 'anyOf': {
      const branches = (e.schema as Array<{ type?: string }>).map((s) => s.type ?? 'object').join(' or ');
      return { path, message: `must be ${branches}` };
    }
    default:
      return { path, message: e.message ?? e.keyword };
  }
}
