import type { ContributionMatrix } from '../../../shared/protocol';

/**
 * The paper's Figure 5 for one dense block: pixel (s, ℓ) is the average absolute weight from
 * source s (the block input, then layers 1..L) to target ℓ (layers 1..L, then the transition or
 * classifier), scaled to the block's largest value. Cells where s does not feed ℓ stay blank.
 */
export interface HeatCell {
  /** Column: target index. */
  col: number;
  /** Row: source index. */
  row: number;
  value: number;
  /** value / the block's max, in [0, 1]. */
  t: number;
}

export function heatCells(m: ContributionMatrix): { cells: HeatCell[]; max: number; rows: number; cols: number } {
  let max = 0;
  for (const target of m.values) for (const v of target) if (v !== null && Math.abs(v) > max) max = Math.abs(v);
  const cells: HeatCell[] = [];
  m.values.forEach((target, col) =>
    target.forEach((v, row) => {
      if (v !== null) cells.push({ col, row, value: v, t: max > 0 ? Math.abs(v) / max : 0 });
    }),
  );
  return { cells, max, rows: m.sources.length, cols: m.targets.length };
}

/** The cell under a point given in CSS pixels relative to the grid's top-left corner. */
export function cellAt(m: ContributionMatrix, cell: number, x: number, y: number): { col: number; row: number; value: number | null } | null {
  const col = Math.floor(x / cell);
  const row = Math.floor(y / cell);
  if (col < 0 || row < 0 || col >= m.targets.length || row >= m.sources.length) return null;
  return { col, row, value: m.values[col]?.[row] ?? null };
}
