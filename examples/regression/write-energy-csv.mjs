// Writes examples/regression/data/energy.csv: 600 seeded hourly readings of a building's energy use
// (kWh) from outdoor temperature, occupancy and hour of day. The first 300 rows are a cold season
// (heating: use falls as it gets warmer), the last 300 a hot one (cooling: use rises with temperature)
// — a concept shift in file order, for csv-regression.pipeline.json ("order": "file") and
// csv-regression-stream.pipeline.json ("sequential"). Run: node examples/regression/write-energy-csv.mjs
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// mulberry32: a small seeded generator, so the file is the same on every machine
let state = 29;
const next = () => {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const rows = ['temperature,occupancy,hour,energy'];
for (let i = 0; i < 600; i++) {
  const cold = i < 300;
  const temperature = cold ? -5 + next() * 15 : 18 + next() * 15;
  const occupancy = Math.round(next() * 100) / 100;
  const hour = i % 24;
  const daytime = hour >= 8 && hour < 19 ? 1 : 0;
  const climate = cold ? 0.12 * (10 - temperature) : 0.15 * (temperature - 18);
  const energy = 1 + climate + 1.5 * occupancy + 0.5 * daytime + (next() - 0.5) * 0.1;
  rows.push([temperature.toFixed(2), occupancy.toFixed(2), hour, energy.toFixed(3)].join(','));
}
const file = join(dirname(fileURLToPath(import.meta.url)), 'data', 'energy.csv');
writeFileSync(file, `${rows.join('\n')}\n`);
console.log(`wrote ${rows.length - 1} rows to ${file}`);
