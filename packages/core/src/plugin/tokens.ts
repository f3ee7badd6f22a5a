/**
 * Inversify service identifiers. They are `Symbol.for` keys so that two installed copies of
 * `@engram/core` (one in a plugin's `node_modules`, say) still agree on them.
 */
export const TOKENS = {
  /** Multi-bound {@link ComponentDescriptor}s contributed by plugins. */
  Component: Symbol.for('engram:component'),
  /** The validated options of the component being resolved (bound in its child container). */
  Options: Symbol.for('engram:options'),
  /** {@link ComponentServices} of the component being resolved. */
  Services: Symbol.for('engram:services'),
  /** The run's {@link EventBus}. */
  EventBus: Symbol.for('engram:event-bus'),
  /** The run's {@link RunSettings}. */
  Settings: Symbol.for('engram:settings'),
  /** The {@link ComponentRegistry}. */
  Registry: Symbol.for('engram:registry'),
} as const;
