export * from './continual-metrics.js';
export * from './prequential.js';
export * from './series-downsampler.js';
export * from './run-summary.js';
export * from './accuracy-matrix-csv.js';
export * from './run-recorder.js';
export * from './error-matrix.js';
export * from './prequential-error.js';
