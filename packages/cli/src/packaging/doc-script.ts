/**
 * Turns the runnable walkthroughs of the README and docs into bash scripts, so that the packaging test
 * runs exactly what a reader types: every ```` ```bash ```` block's lines as they are, and every block
 * whose info string names a file (```` ```js file=plugin/index.js ````) written to that path, relative
 * to the folder the commands have `cd`-ed to, in document order.
 */

/** One fenced block of a Markdown document. */
export interface FencedBlock {
  /** The info string's first word (`bash`, `json`, `js`). */
  readonly lang: string;
  /** The value of `file=` in the info string, when there is one. */
  readonly file?: string;
  readonly body: string;
}

/** Every fenced block of `markdown`, in order. */
export function fencedBlocks(markdown: string): FencedBlock[] {
  return [...markdown.matchAll(/^```(\w*)([^\n]*)\n([\s\S]*?)^```/gm)].map((m) => {
    const file = /\bfile=(\S+)/.exec(m[2] ?? '')?.[1];
    return { lang: m[1] ?? '', body: m[3] ?? '', ...(file === undefined ? {} : { file }) };
  });
}

/**
 * The section of `markdown` under the heading `title` (any level), up to the next heading of the same or a
 * higher level. Throws when there is no such heading, so a renamed section fails the test that reads it.
 */
export function section(markdown: string, title: string): string {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => /^#+ /.test(l) && l.replace(/^#+ /, '').trim() === title);
  if (start < 0) throw new Error(`no section "${title}"`);
  const level = /^#+/.exec(lines[start] ?? '')?.[0].length ?? 1;
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => {
    const h = /^(#+) /.exec(l);
    return h?.[1] !== undefined && h[1].length <= level;
  });
  return (end < 0 ? rest : rest.slice(0, end)).join('\n');
}

/** A bash script doing what the `bash` and `file=` blocks of `markdown` say, in order. */
export function docScript(markdown: string): string {
  const parts: string[] = [];
  for (const block of fencedBlocks(markdown)) {
    if (block.lang === 'bash') parts.push(block.body);
    else if (block.file !== undefined) {
      const quoted = `'${block.file.replace(/'/g, `'\\''`)}'`;
      const marker = 'ENGRAM_DOC_FILE_END';
      if (block.body.includes(marker)) throw new Error(`block for ${block.file} contains ${marker}`);
      parts.push(`cat > ${quoted} <<'${marker}'\n${block.body}${marker}\n`);
    }
  }
  return parts.join('');
}
