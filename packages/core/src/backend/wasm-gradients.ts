/**
 * Placeholder: replaced by the gradient rewrites (design §4).
 */
export function registerWasmGradients(): void {}
