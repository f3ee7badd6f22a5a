import { inject, injectable } from 'inversify';
import type { OperatorFunction } from 'rxjs';
import { eachItem } from './each-item.js';
import type { RunItem } from '../plugin-api/run-item.js';
import type { Stage } from '../plugin-api/stage.js';
import { STAGE_TOKENS } from './stage-tokens.js';
import type { TransformChain } from './transform-chain.js';

/**
 * Stage `preprocess`: the pipeline's `preprocess` transforms, in order. At `experience-start` they
 * may fit statistics (`beforeExperience`); each `batch` is replaced by its `train`-phase output and
 * each stream `test` batch by its `test`-phase output. (Evaluation applies the same
 * {@link TransformChain} to test sets.)
 */
@injectable()
export class PreprocessStage implements Stage {
  readonly name = 'preprocess';

  constructor(@inject(STAGE_TOKENS.Transforms) private readonly chain: TransformChain) {}

  operator(): OperatorFunction<RunItem, RunItem> {
    const chain = this.chain;
    return eachItem((item) => {
      switch (item.kind) {
        case 'experience-start':
          return chain.transforms.length > 0 ? chain.beforeExperience(item.experience) : undefined;
        case 'batch':
          item.batch = chain.prepare(item.batch, 'train');
          return undefined;
        case 'test':
          item.batch = chain.prepare(item.batch, 'test');
          return undefined;
        default:
          return undefined;
      }
    });
  }
}
