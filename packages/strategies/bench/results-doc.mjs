// Rewrites one results table of docs/results.md in place, keeping every other part of the file (the other
// table, the hand-written sections, the text under a table) as it is. Used by quality.mjs.

/** The heading of the backbone section (the reduced ResNet-18 on split Fashion-MNIST). */
export const BACKBONE_HEADING = '## Split Fashion-MNIST class-IL: the reduced ResNet-18 beside the MLP (memory 1,000)';

const TABLE_HEAD = [
  '| scenario | strategy | options | memory | budget | seeds | ACC % | BWT % | forgetting % | wall s | published ACC % |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
];
const STAMP = 'Last full table:';

/** Splits markdown into blocks: the part before the first `## ` heading, then one block per heading. */
function blocks(text) {
  const out = [[]];
  for (const line of text.split('\n')) {
    if (line.startsWith('## ')) out.push([]);
    out[out.length - 1].push(line);
  }
  return out;
}

/**
 * Returns `text` with the table introduced by `intro[0]` (a `# ` or `## ` heading line) rewritten: the
 * intro, the stamp (the previous one when `stamp` is undefined), then the table's rows — the rows of
 * `rerunLines` (key `scenario|strategy` → row) and the rows already there that were not rerun, sorted by
 * `scenarioOrder`, then strategy — then whatever followed the table in that block. A block that does not
 * exist yet is added after the first block.
 */
export function replaceTable(text, { intro, stamp, rerunLines, scenarioOrder }) {
  const all = blocks(text);
  let index = all.findIndex((b) => b.some((l) => l.trim() !== '') && b.find((l) => l.trim() !== '') === intro[0]);
  if (index < 0) {
    index = all[0].some((l) => l.trim() !== '') ? 1 : 0;
    all.splice(index, 0, []);
  }
  const block = all[index];
  const start = block.findIndex((l) => l.startsWith('| scenario |'));
  let end = start;
  while (start >= 0 && end < block.length && block[end].startsWith('|')) end++;
  const kept = new Map();
  for (const l of start >= 0 ? block.slice(start + 2, end) : []) {
    const cells = l.split('|').map((c) => c.trim());
    if (cells.length === 13) kept.set(`${cells[1]}|${cells[2]}`, l);
  }
  const oldStamp = block.find((l) => l.startsWith(STAMP));
  const after = start >= 0 ? block.slice(end) : [];
  while (after.length > 0 && after[0].trim() === '') after.shift();
  const merged = new Map([...kept, ...rerunLines]);
  const sorted = [...merged.keys()].sort((a, b) => {
    const [sa, na] = a.split('|');
    const [sb, nb] = b.split('|');
    return scenarioOrder.indexOf(sa) - scenarioOrder.indexOf(sb) || na.localeCompare(nb);
  });
  const lines = [...intro];
  const useStamp = stamp ?? oldStamp;
  if (useStamp) lines.push('', useStamp);
  lines.push('', ...TABLE_HEAD, ...sorted.map((k) => merged.get(k)), '');
  if (after.length > 0) lines.push(...after);
  else if (index < all.length - 1) lines.push('');
  all[index] = lines;
  return all
    .map((b) => b.join('\n'))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}
