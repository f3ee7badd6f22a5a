import { concatMap, defer, from, type Observable } from 'rxjs';
import type { DataSource, Experience, Rng, StreamInfo } from '@engram/core';
import type { LabelledData } from '../data/labelled-set.js';
import { buildScenario, type Scenario } from '../scenarios/build-scenario.js';
import type { ScenarioOptions } from '../scenarios/scenario.schema.js';

/**
 * A {@link DataSource} over a finite labelled data set loaded into memory once (on the first
 * `describe()` or `experiences()`), cut into experiences by a scenario builder.
 */
export class FiniteDataSource implements DataSource {
  private built: Promise<Scenario> | undefined;

  constructor(
    private readonly load: () => Promise<LabelledData>,
    private readonly scenario: ScenarioOptions,
    private readonly testFraction: number,
    private readonly rng: Rng,
    /** Called when the run first asks for the experiences (after its start), e.g. to release held events. */
    private readonly onExperiences?: () => void,
  ) {}

  /** Loads the data (once) and builds the scenario. */
  scenarioReady(): Promise<Scenario> {
    this.built ??= this.load().then((data) =>
      buildScenario(data, this.scenario, { testFraction: this.testFraction, rng: this.rng }),
    );
    return this.built;
  }

  async describe(): Promise<StreamInfo> {
    return (await this.scenarioReady()).info;
  }

  experiences(): Observable<Experience> {
    return defer(() => {
      this.onExperiences?.();
      return from(this.scenarioReady());
    }).pipe(concatMap((s) => from(s.experiences)));
  }
}
