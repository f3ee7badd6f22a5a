/** Minutes and seconds (`m:ss`), or hours (`h:mm:ss`) for long runs; `-` when unknown. */
export function clock(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * Lays out header parts (`engram: name`, `scenario`, …) in lines of at most `width - 1` columns: the
 * first two parts are joined with ` — `, the others with `, `, while they fit; the next line is
 * indented by two spaces, and a part longer than a whole line is cut with `…`. Used for the run and experience headers so they never wrap at 80 columns.
 */
export function fitHeader(parts: readonly string[], width: number): string[] {
  const max = Math.max(20, width - 1);
  const lines: string[] = [];
  let current = '';
  parts.forEach((raw, i) => {
    const indent = lines.length > 0 || current !== '' ? '  ' : '';
    const part = raw.length > max - indent.length ? `${raw.slice(0, max - indent.length - 1)}…` : raw;
    const sep = i === 1 ? ' — ' : ', ';
    if (current === '') current = part;
    else if (current.length + sep.length + part.length <= max) current = `${current}${sep}${part}`;
    else {
      lines.push(current);
      current = `  ${part}`;
    }
  });
  if (current !== '') lines.push(current);
  return lines;
}

/** What one progress line shows; optional parts are left out when unknown. */
export interface ProgressFields {
  /** `exp 2 of 5`, `stream exp 3`. */
  readonly label: string;
  /** `epoch 3/8`. */
  readonly epoch?: string;
  /** Share of the experience done, 0..1 (draws the bar and percentage). */
  readonly fraction?: number;
  readonly loss?: string;
  readonly accuracy?: string;
  /** A regression run's running MAE (shown instead of an accuracy). */
  readonly mae?: string;
  /** Records trained per second of wall time since this process's first batch (evaluation and checkpoints included). */
  readonly samplesPerSecond?: string;
  /** Time left in this experience. */
  readonly eta?: string;
  /** `run 1:05 / ETA 3:20`. */
  readonly run?: string;
}

/**
 * One progress line that fits `width` columns. Parts are given up in this order until it fits: the
 * bar shrinks (to nothing), then the loss, the epoch, the run times; accuracy (or MAE), samples/s and the ETA
 * stay as long as anything does (at 80 columns they always fit).
 */
export function progressLine(f: ProgressFields, width: number): string {
  const pct =
    f.fraction === undefined ? undefined : `${Math.floor(Math.min(1, Math.max(0, f.fraction)) * 100)}%`.padStart(4);
  const parts = (keep: { loss: boolean; epoch: boolean; run: boolean }): string[] =>
    [
      f.label,
      keep.epoch ? f.epoch : undefined,
      '\u0000', // the bar goes here
      pct,
      keep.loss && f.loss ? `loss ${f.loss}` : undefined,
      f.accuracy ? `acc ${f.accuracy}` : undefined,
      f.mae ? `mae ${f.mae}` : undefined,
      f.samplesPerSecond ? `${f.samplesPerSecond} samples/s wall` : undefined,
      f.eta ? `ETA ${f.eta}` : undefined,
      keep.run && f.run ? `| ${f.run}` : undefined,
    ].filter((p): p is string => p !== undefined);
  const attempts = [
    { loss: true, epoch: true, run: true },
    { loss: false, epoch: true, run: true },
    { loss: false, epoch: false, run: true },
    { loss: false, epoch: false, run: false },
  ];
  for (const keep of attempts) {
    const p = parts(keep);
    const text = p.filter((x) => x !== '\u0000').join(' ');
    const room = width - 1 - text.length - 3; // one column spare (no wrap), brackets and a space
    if (f.fraction !== undefined && room >= 6) {
      const size = Math.min(room, 30);
      const filled = Math.round(Math.min(1, Math.max(0, f.fraction)) * size);
      return p.map((x) => (x === '\u0000' ? `[${'█'.repeat(filled)}${'░'.repeat(size - filled)}]` : x)).join(' ');
    }
    if (text.length <= width - 1) return text;
  }
  return parts(attempts[3] as { loss: boolean; epoch: boolean; run: boolean })
    .filter((x) => x !== '\u0000')
    .join(' ')
    .slice(0, Math.max(0, width - 1));
}
