import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PipelineError } from '../plugin-api/pipeline-error.js';
import { checkHooks, STRATEGY_HOOKS } from './hook-check.js';

const where = { role: 'strategy', kind: 'my-ewc', pointer: '/strategy/1' };

class Base {
  readonly name = 'base';
  afterExperience(): void {}
  private computeFisher(): number {
    return 1;
  }
  get usesFisher(): number {
    return this.computeFisher();
  }
}

class Misspelt extends Base {
  beforeExperiance(): void {}
}

test('a strategy whose hooks are all known, with helper methods of other names, is accepted', () => {
  assert.doesNotThrow(() => checkHooks(new Base(), STRATEGY_HOOKS, where));
  assert.doesNotThrow(() => checkHooks({ name: 'plain', afterBatch: () => undefined }, STRATEGY_HOOKS, where));
});

test('a misspelt optional hook, inherited or own, is a pipeline error naming the method and the pointer', () => {
  for (const strategy of [new Misspelt(), { name: 'literal', afterBackwards: () => undefined }]) {
    assert.throws(
      () => checkHooks(strategy, STRATEGY_HOOKS, where),
      (e: unknown) =>
        e instanceof PipelineError &&
        e.message.includes('/strategy/1') &&
        /strategy "my-ewc" has a method "(beforeExperiance|afterBackwards)", which is not a strategy hook/.test(
          e.message,
        ),
    );
  }
});
