import { Container, type Newable } from 'inversify';

/** How an owned resource is released: called once, when the run's scope closes. */
export type Release<T> = (value: T) => void | Promise<void>;

interface Owned {
  readonly name: string;
  readonly release: () => void | Promise<void>;
}

/**
 * The lifetime of one run: every service the run assembles is acquired through its scope, in order,
 * and released by {@link RunScope.close} in reverse order — the last thing built goes first, the
 * backend lease (the first) last — like NestJS's `onModuleDestroy` or fastify's `onClose` hooks.
 *
 * The scope also holds the run's inversify container: a service {@link RunScope.provide}s is bound
 * under its token, and the stages are resolved from it by constructor injection
 * ({@link RunScope.resolveAll}). Components (strategies, transforms, sources, …) are made by their
 * plugins' descriptors before they are provided; the container does not build services itself, the
 * assembly does, because their order matters (restore needs the model, the stages need the restore).
 */
export class RunScope {
  private readonly owned: Owned[] = [];
  private readonly container = new Container({ defaultScope: 'Singleton' });
  private closed = false;

  /**
   * Takes ownership of `value`: `release(value)` runs when the scope closes, before the release of
   * anything acquired earlier. Returns `value`. Called by the assembly as it builds each service.
   */
  own<T>(name: string, value: T, release: Release<T>): T {
    if (this.closed) throw new Error(`the run's scope is closed; cannot acquire ${name}`);
    this.owned.push({ name, release: () => release(value) });
    return value;
  }

  /**
   * Binds `value` under `token` in the run's container (for the stages to inject) and, given
   * `release`, owns it like {@link own}. Returns `value`.
   */
  provide<T>(token: symbol, value: T, release?: Release<T>): T {
    this.container.bind<T>(token).toConstantValue(value);
    return release ? this.own(String(token.description ?? token.toString()), value, release) : value;
  }

  /** Resolves the classes `classes` (injectable, built once in this scope) in their order. */
  build<T>(classes: ReadonlyArray<Newable<T>>): T[] {
    for (const cls of classes) this.container.bind<T>(cls).toSelf();
    return classes.map((cls) => this.container.get<T>(cls));
  }

  /** Binds `values` in order under the multi-injection `token` (the run's stages). */
  provideAll<T>(token: symbol, values: readonly T[]): void {
    for (const value of values) this.container.bind<T>(token).toConstantValue(value);
  }

  /** Everything bound under the multi-injection `token`, in binding order. */
  resolveAll<T>(token: symbol): T[] {
    return this.container.getAll<T>(token);
  }

  /**
   * Releases everything owned, last acquired first. A release that fails does not stop the others;
   * the first failure is rethrown once all ran. Called once, when the run ends however it ends
   * (idempotent).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let failure: { readonly error: unknown } | undefined;
    for (const { release } of this.owned.splice(0).reverse()) {
      try {
        await release();
      } catch (error) {
        failure ??= { error };
      }
    }
    this.container.unbindAll();
    if (failure) throw failure.error;
  }
}
