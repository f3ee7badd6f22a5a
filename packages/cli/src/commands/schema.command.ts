import { writeFileAtomic } from '@engram/core/internal';
import { dirname } from 'node:path';
import { composePipelineSchema, type TObject } from '@engram/core';
import { ensureDir } from '@engram/core/internal';
import { loadDefaultPlugins } from '../cli-context.js';
import { sweepSchemaText } from '../sweep/sweep.schema.js';

/** The pipeline JSON Schema composed from core, the first-party plugins and `extra`, as text. */
export async function schemaText(extra: readonly string[] = []): Promise<string> {
  const { registry } = await loadDefaultPlugins(extra);
  const schema: TObject = composePipelineSchema(registry);
  return `${JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...schema }, null, 2)}\n`;
}

/** `engram schema [--sweep] [--out FILE]`: prints or writes the composed pipeline schema, or with `--sweep` the sweep file's. */
export async function schemaCommand(flags: { out?: string; plugin?: string[]; sweep?: boolean }): Promise<number> {
  const text = flags.sweep === true ? sweepSchemaText() : await schemaText(flags.plugin ?? []);
  if (!flags.out) {
    process.stdout.write(text);
    return 0;
  }
  await ensureDir(dirname(flags.out));
  await writeFileAtomic(flags.out, text);
  process.stdout.write(`wrote ${flags.out}\n`);
  return 0;
}
