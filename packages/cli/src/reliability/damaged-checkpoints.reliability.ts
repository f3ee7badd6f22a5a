import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { basePipeline } from './corpus.js';
import { engram } from './cli-runner.js';
import { reportCases } from './cases.js';

type Damage = (out: string, newest: string, older: string) => void;

const manifest = (ck: string): Record<string, unknown> =>
  JSON.parse(readFileSync(join(ck, 'manifest.json'), 'utf8')) as Record<string, unknown>;
const setManifest = (ck: string, m: unknown): void => writeFileSync(join(ck, 'manifest.json'), JSON.stringify(m));
const runJson = (ck: string): { metrics: { bytes: number } } =>
  JSON.parse(readFileSync(join(ck, 'run.json'), 'utf8')) as { metrics: { bytes: number } };

/** Each damage applies to the newest checkpoint (or the history it points into); resume must fall back to the older one. */
const damages: Record<string, Damage> = {
  'manifest files renamed': (_o, n) =>
    setManifest(n, (({ files, ...rest }) => ({ ...rest, filez: files }))(manifest(n))),
  'manifest files null': (_o, n) => setManifest(n, { ...manifest(n), files: null }),
  'manifest null': (_o, n) => setManifest(n, null),
  'manifest not JSON': (_o, n) => writeFileSync(join(n, 'manifest.json'), '{"format":'),
  'state.bin a symlink to /dev/zero': (_o, n) => {
    rmSync(join(n, 'state.bin'));
    symlinkSync('/dev/zero', join(n, 'state.bin'));
  },
  'state.bin a FIFO': (_o, n) => {
    rmSync(join(n, 'state.bin'));
    execFileSync('mkfifo', [join(n, 'state.bin')]);
  },
  'state.bin a symlink out of the checkpoint': (o, n) => {
    cpSync(join(n, 'state.bin'), join(o, 'elsewhere.bin'));
    rmSync(join(n, 'state.bin'));
    symlinkSync(join(o, 'elsewhere.bin'), join(n, 'state.bin'));
  },
  'weights truncated': (_o, n) =>
    writeFileSync(join(n, 'model', 'weights.bin'), readFileSync(join(n, 'model', 'weights.bin')).subarray(0, 10)),
  'a flipped byte in state.bin': (_o, n) => {
    const b = readFileSync(join(n, 'state.bin'));
    b[0] = (b[0] ?? 0) ^ 0xff;
    writeFileSync(join(n, 'state.bin'), b);
  },
  'cursor.step 1e18 in state /run/cursor (manifest re-signed)': (_o, n) =>
    resign(n, 'state.json', (t) => t.replace(/("cursor":\{[^}]*"step":)\d+/, '$11e18')),
  'state.json with a __proto__ entry (re-signed)': (_o, n) =>
    resign(n, 'state.json', (t) => t.replace('{', '{"__proto__":{"meta":null,"arrays":{}},')),
  'state.json not an object (re-signed)': (_o, n) => resign(n, 'state.json', () => '[1,2]'),
  'metrics.jsonl truncated between the two marks': (o, n, old) => {
    const cut = Math.floor((runJson(old).metrics.bytes + runJson(n).metrics.bytes) / 2);
    writeFileSync(join(o, 'metrics.jsonl'), readFileSync(join(o, 'metrics.jsonl')).subarray(0, cut));
  },
  'a changed digit in metrics.jsonl after the older mark': (o, n, old) => {
    const b = readFileSync(join(o, 'metrics.jsonl'));
    const from = runJson(old).metrics.bytes;
    for (let i = from; i < runJson(n).metrics.bytes; i++)
      if ((b[i] ?? 0) >= 0x30 && (b[i] ?? 0) <= 0x38) {
        b[i] = (b[i] ?? 0) + 1;
        break;
      }
    writeFileSync(join(o, 'metrics.jsonl'), b);
  },
  'a garbage byte in metrics.jsonl after the older mark': (o, n, old) => {
    const b = readFileSync(join(o, 'metrics.jsonl'));
    b[Math.floor((runJson(old).metrics.bytes + runJson(n).metrics.bytes) / 2)] = 0x01;
    writeFileSync(join(o, 'metrics.jsonl'), b);
  },
};

/** Changes that are not damage: the newest checkpoint must still be used. */
const KEPT = new Set(['state.json with a __proto__ entry (re-signed)']);

/** Rewrites one file of a checkpoint and its manifest entry, as an attacker who knows the format could. */
function resign(ck: string, path: string, change: (text: string) => string): void {
  const text = change(readFileSync(join(ck, path), 'utf8'));
  writeFileSync(join(ck, path), text);
  const m = manifest(ck) as { files: Record<string, { sha256: string; bytes: number }> };
  m.files[path] = {
    sha256: execFileSync('sha256sum', [join(ck, path)], { encoding: 'utf8' }).split(' ')[0] ?? '',
    bytes: Buffer.byteLength(text),
  };
  setManifest(ck, m);
}

test(
  `every damaged newest checkpoint (${Object.keys(damages).length} kinds) is skipped with a warning and the run ` +
    `resumes from the previous one`,
  async () => {
    const work = mkdtempSync(join(tmpdir(), 'engram-damage-'));
    const file = join(work, 'p.json');
    const doc = basePipeline();
    doc['data'] = { ...(doc['data'] as object), samplesPerClass: 40 };
    doc['checkpoint'] = { everyBatches: 3, keep: 3, everyExperience: false };
    writeFileSync(file, JSON.stringify(doc));
    const pristine = join(work, 'pristine');
    const first = await engram(['run', file, '--out', pristine, '--quiet']);
    assert.equal(first.code, 0, first.stderr);
    const cks = readdirSync(join(pristine, 'checkpoints')).sort();
    assert.ok(cks.length >= 2, `${cks.length} checkpoints`);
    const [olderName, newestName] = cks.slice(-2) as [string, string];
    const olderStep = Number(olderName.slice(5));
    let fellBack = 0;
    const entries = Object.entries(damages);
    for (let i = 0; i < entries.length; i += 2) {
      const batch = entries.slice(i, i + 2);
      const results = await Promise.all(
        batch.map(async ([name, damage]) => {
          const out = join(work, `case-${name.replace(/[^a-z0-9]+/gi, '-')}`);
          cpSync(pristine, out, { recursive: true });
          damage(out, join(out, 'checkpoints', newestName), join(out, 'checkpoints', olderName));
          return { name, r: await engram(['run', file, '--out', out, '--resume', '--quiet']) };
        }),
      );
      for (const { name, r } of results) {
        assert.equal(r.code, 0, `${name}: ${r.stderr}`);
        if (KEPT.has(name)) {
          // not damage: an entry named __proto__ is an ordinary key; the newest checkpoint is used, optimizer state
          // intact — and since the run had finished, --resume says so from that checkpoint and trains nothing
          assert.match(
            r.stderr,
            new RegExp(
              `^(resuming from .*${newestName} |the run in .* has already finished \\(checkpoint .*${newestName},)`,
              'm',
            ),
            name,
          );
          assert.doesNotMatch(r.stderr, /warning: skipping/, name);
          continue;
        }
        assert.match(r.stderr, /^warning: skipping corrupt checkpoint: .*step-/m, name);
        assert.match(r.stderr, new RegExp(`^resuming from .*${olderName} \\(step ${olderStep},`, 'm'), name);
        assert.doesNotMatch(r.stderr, /^\s+at .*[:(]\d+|TypeError|RangeError|SyntaxError/m, `${name}: no stack trace`);
        fellBack++;
      }
    }
    console.log(
      `# damaged checkpoints: ${fellBack}/${entries.length - KEPT.size} fell back to the previous checkpoint (step ${olderStep})`,
    );
    // every checkpoint damaged: a clear refusal, exit 2
    const out = join(work, 'all-damaged');
    cpSync(pristine, out, { recursive: true });
    for (const ck of readdirSync(join(out, 'checkpoints'))) setManifest(join(out, 'checkpoints', ck), null);
    const r = await engram(['run', file, '--out', out, '--resume', '--quiet']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: nothing to resume: all \d+ checkpoint\(s\) .* are corrupt$/m);
    reportCases('damaged-checkpoints', entries.length + 1);
    rmSync(work, { recursive: true, force: true });
  },
);
