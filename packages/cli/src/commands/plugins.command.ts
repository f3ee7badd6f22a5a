import { COMPONENT_ROLES } from '@engram/core';
import { loadDefaultPlugins } from '../cli-context.js';

/** `engram plugins [--json]`: every registered kind per role, with its options schema. */
export async function pluginsCommand(flags: { json?: boolean; plugin?: string[] }): Promise<number> {
  const { registry } = await loadDefaultPlugins(flags.plugin ?? []);
  const list = registry.list();
  if (flags.json) {
    const out = list.map(({ descriptor: d, plugin }) => ({
      role: d.role,
      kind: d.kind,
      plugin,
      description: d.description,
      options: d.options,
    }));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }
  for (const role of COMPONENT_ROLES) {
    const entries = list.filter((e) => e.descriptor.role === role);
    if (entries.length === 0) continue;
    process.stdout.write(`${role}\n`);
    for (const { descriptor: d, plugin } of entries) {
      const opts = Object.keys(d.options.properties).join(', ');
      process.stdout.write(
        `  ${d.kind.padEnd(18)} ${d.description} [${plugin}]${opts ? `\n  ${''.padEnd(18)} options: ${opts}` : ''}\n`,
      );
    }
  }
  return 0;
}
