import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSource } from '@engram/core';
import { build, tempDir, testServices } from '../testing/support.js';
import { csvDescriptor, jsonlDescriptor } from './file.sources.js';
import { redact } from './redacted-format.js';

const secret = 'root:$6$secrethash:19000:0:99999:7:::';

test('errors about a data file outside the pipeline folder never quote its content', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'shadow'), `${secret}\ndaemon:*:19000:0:99999:7:::\n`);
    mkdirSync(join(dir, 'project'));
    const services = testServices(1, join(dir, 'project'));
    const cases: Array<[typeof csvDescriptor, Record<string, unknown>]> = [
      [csvDescriptor, { header: true, delimiter: ',', labelColumn: 'root', badRows: 'skip' }],
      [csvDescriptor, { header: false, delimiter: ':', labelColumn: 1, numClasses: 3, badRows: 'fail' }],
      [jsonlDescriptor, { featuresField: 'x', labelField: 'y', badRows: 'fail' }],
    ];
    for (const [descriptor, extra] of cases) {
      const source = build<DataSource>(
        descriptor,
        { path: '../shadow', scenario: { type: 'class-incremental', experiences: 2 }, testFraction: 0.2, ...extra },
        services,
      );
      await assert.rejects(source.describe(), (e: unknown) => {
        const message = (e as Error).message;
        assert.ok(!message.includes('secrethash') && !message.includes('root:'), message);
        return true;
      });
    }
    assert.ok(services.emitted.every((e) => !JSON.stringify(e).includes('secrethash')));
  } finally {
    cleanup();
  }
});

test('redaction keeps the structure of a message and drops quoted excerpts', () => {
  assert.equal(
    redact('column 2 is not a number: "root:$6$x" (badRows policy is "fail")'),
    'column 2 is not a number: "…" (…)',
  );
  assert.equal(redact(`invalid JSON (Unexpected token 'r', "root:$6$se"... is not valid JSON)`), 'invalid JSON (…)');
});
