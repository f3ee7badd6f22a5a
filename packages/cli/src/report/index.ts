export { renderReport, reportCharts, REPORT_FILE } from './render-report.js';
export { renderComparison, formatTable, comparisonRows, comparisonColumns } from './render-comparison.js';
export { loadRun, type RunData, type AccuracyPoint } from './run-data.js';
