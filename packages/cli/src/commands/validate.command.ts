import { loadPipelineFile } from '../cli-context.js';

/** `engram validate <pipeline.json>`: checks the document (and its plugins) without running it. */
export async function validateCommand(file: string, flags: { plugin?: string[] }): Promise<number> {
  const loaded = await loadPipelineFile(file, flags.plugin ?? []);
  process.stdout.write(`${file}: valid (${loaded.manifests.map((m) => m.name).join(', ')})\n`);
  return 0;
}
