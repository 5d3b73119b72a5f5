/** One line of the benchmark report: a figure, the limit it is compared with (measured in the same run), and the goal. */
export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  limitName?: string;
  limitValue?: number;
  ratio?: number;
  goal?: string;
  met?: boolean;
  note?: string;
}

export function formatRows(rows: BenchRow[]): string {
  const header = ['figure', 'value', 'limit', 'ratio', 'goal', 'met'];
  const fmt = (n: number | undefined) => (n === undefined ? '' : Number.isInteger(n) ? String(n) : n.toFixed(n < 10 ? 3 : 1));
  const body = rows.map((r) => [
    r.name,
    `${fmt(r.value)} ${r.unit}`,
    r.limitName ? `${r.limitName}: ${fmt(r.limitValue)} ${r.unit}` : '',
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    r.goal ?? '',
    r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n') + '\n';
}

/** The rows' notes (causes of unmet goals, conditions of the measure), one line each, under the table. */
export function formatNotes(rows: BenchRow[]): string {
  const noted = rows.filter((r) => r.note);
  return noted.length ? `notes:\n${noted.map((r) => `  - ${r.name}: ${r.note}`).join('\n')}\n` : '';
}
