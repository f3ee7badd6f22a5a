import type { TObject } from '@sinclair/typebox';

type Json = unknown;

/** `required` without the properties that have a `default` (ajv fills them in before it checks). */
function withoutDefaulted(node: Record<string, Json>): Record<string, Json> {
  const required = node['required'];
  const properties = node['properties'];
  if (!Array.isArray(required) || typeof properties !== 'object' || properties === null) return node;
  const props = properties as Record<string, Json>;
  const kept = required.filter((name) => {
    const p = props[String(name)];
    return !(typeof p === 'object' && p !== null && 'default' in p);
  });
  const { required: _dropped, ...rest } = node;
  return kept.length > 0 ? { ...rest, required: kept } : rest;
}

type Obj = Record<string, Json>;
const isObj = (v: Json): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * For a union discriminated by `tag`: each branch's tag constant gets the branch's description, and the
 * union gets `properties[tag]` listing every value with its description — so completion offers every
 * value whatever the rest of the object holds (a JSON language service only completes from branches that
 * already match otherwise), and hover explains each one. ajv validates the branches as before.
 */
function withTagCompletion(node: Obj): Obj {
  const tag = isObj(node['discriminator']) ? node['discriminator']['propertyName'] : undefined;
  const branches = node['oneOf'];
  if (typeof tag !== 'string' || !Array.isArray(branches)) return node;
  const values: string[] = [];
  const descriptions: string[] = [];
  const oneOf = (branches as Json[]).map((b): Json => {
    if (!isObj(b) || !isObj(b['properties']) || !isObj(b['properties'][tag])) return b;
    const props = b['properties'];
    const constant = (props[tag] as Obj)['const'];
    if (typeof constant !== 'string') return b;
    const described = [(props[tag] as Obj)['description'], b['description'], b['title']].find(
      (d): d is string => typeof d === 'string',
    );
    const description = described ?? `${tag} "${constant}"`;
    values.push(constant);
    descriptions.push(description);
    return { ...b, properties: { ...props, [tag]: { ...(props[tag] as Obj), description } } };
  });
  const own = isObj(node['properties']) ? node['properties'] : {};
  const listed = isObj(own[tag])
    ? own[tag]
    : { type: 'string', description: `Selects one of: ${values.join(', ')}; the other keys are its options.` };
  return { ...node, oneOf, properties: { ...own, [tag]: { ...listed, enum: values, enumDescriptions: descriptions } } };
}

function walk(node: Json): Json {
  if (Array.isArray(node)) return node.map(walk);
  if (!isObj(node)) return node;
  const out: Obj = {};
  for (const [k, v] of Object.entries(node))
    out[k] = k === 'default' || k === 'const' || k === 'enum' || k === 'examples' ? v : walk(v);
  return withTagCompletion(withoutDefaulted(out));
}

/**
 * The composed schema as editors need it (a JSON language service, e.g. VS Code's): an option with a
 * default is not `required` — validation is unchanged, since ajv (`useDefaults`) fills defaults before
 * it checks `required`, so a missing option still arrives with its default — and every discriminated
 * union lists its tag values with their descriptions. Returns a plain JSON copy.
 */
export function editorFriendly(schema: TObject): TObject {
  return walk(schema) as TObject;
}
