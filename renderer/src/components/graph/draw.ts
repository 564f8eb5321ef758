import { arcHeight, blockBandY, LABEL_SCALE, NODE_H, type GraphLayout } from './layout';
import { colorScale, luminance } from '../colors';

/**
 * The colour of an edge of strength t ∈ [0, 1]: viridis without its darkest end on a dark
 * background (where dark purple would vanish) and without its lightest on a light one.
 */
export function edgeColor(t: number, darkBackground: boolean): string {
  return darkBackground ? colorScale(0.3 + 0.7 * t) : colorScale(0.05 + 0.8 * t);
}

/** True when a CSS colour (`#rrggbb` or `rgb(...)`) is dark. */
export function isDark(color: string): boolean {
  return luminance(color) < 0.2;
}

/** The minimal 2D-context surface the graph draws with (a recording fake in tests). */
export type Ctx = Pick<
  CanvasRenderingContext2D,
  'save' | 'restore' | 'setTransform' | 'clearRect' | 'beginPath' | 'moveTo' | 'quadraticCurveTo' | 'lineTo' | 'stroke' | 'fill' | 'fillRect' | 'strokeRect' | 'fillText' | 'measureText'
> & { strokeStyle: unknown; fillStyle: unknown; lineWidth: number; globalAlpha: number; font: string; textAlign: CanvasTextAlign; textBaseline: CanvasTextBaseline };

export interface View {
  scale: number;
  /** Screen position of world origin. */
  tx: number;
  ty: number;
}

export interface Theme {
  bg: string;
  fg: string;
  muted: string;
  node: string;
  nodeStroke: string;
  transition: string;
  accent: string;
  edge: string;
}

const BINS = 12;

/**
 * Draws the graph; returns how many edges were stroked (culled ones are not). Edges are grouped
 * into BINS colour bins, one path each, so thousands of arcs cost a dozen stroke() calls.
 */
export function drawGraph(
  ctx: Ctx,
  layout: GraphLayout,
  view: View,
  size: { width: number; height: number; dpr: number },
  theme: Theme,
  strengths: (number | null)[],
  selected: string | null,
  /** Optional per-node values in [0, 1] (the ablation overview's accuracy drops) that fill the nodes. */
  nodeHeat: ReadonlyMap<string, number> | null = null,
): number {
  ctx.save();
  ctx.setTransform(size.dpr, 0, 0, size.dpr, 0, 0);
  ctx.clearRect(0, 0, size.width, size.height);
  ctx.setTransform(size.dpr * view.scale, 0, 0, size.dpr * view.scale, size.dpr * view.tx, size.dpr * view.ty);

  // Visible world x-range, for culling arcs that lie wholly off screen.
  const left = -view.tx / view.scale;
  const right = (size.width - view.tx) / view.scale;
  const bins: number[][] = Array.from({ length: BINS + 1 }, () => []);
  const highlighted: number[] = [];
  let drawn = 0;
  layout.edges.forEach((e, i) => {
    if (e.tx < left || e.sx > right) return;
    drawn++;
    if (selected !== null && (e.source === selected || e.target === selected)) highlighted.push(i);
    const s = strengths[i];
    bins[s === null ? BINS : Math.min(BINS - 1, Math.floor(s * BINS))].push(i);
  });

  const arc = (i: number) => {
    const e = layout.edges[i];
    const top = -NODE_H / 2;
    ctx.moveTo(e.sx, top);
    ctx.quadraticCurveTo((e.sx + e.tx) / 2, top - 2 * arcHeight(e.tx - e.sx), e.tx, top);
  };
  ctx.lineWidth = 1 / Math.max(view.scale, 0.25);
  const dark = isDark(theme.bg);
  bins.forEach((list, b) => {
    if (list.length === 0) return;
    ctx.beginPath();
    for (const i of list) arc(i);
    if (b === BINS) {
      ctx.strokeStyle = theme.edge;
      ctx.globalAlpha = selected ? 0.18 : 0.45;
      ctx.lineWidth = 1 / Math.max(view.scale, 0.25);
    } else {
      // Stronger contributions: brighter on the scale, wider and more opaque (width reads on any theme).
      const t = (b + 0.5) / BINS;
      ctx.strokeStyle = edgeColor(t, dark);
      ctx.globalAlpha = selected ? 0.25 : 0.45 + 0.55 * t;
      ctx.lineWidth = (0.6 + 2.4 * t) / Math.max(view.scale, 0.25);
    }
    ctx.stroke();
  });
  ctx.globalAlpha = 1;
  if (highlighted.length) {
    ctx.beginPath();
    for (const i of highlighted) arc(i);
    ctx.strokeStyle = theme.accent;
    ctx.lineWidth = 2 / Math.max(view.scale, 0.25);
    ctx.stroke();
  }
  if (layout.chain.length) {
    ctx.beginPath();
    for (const c of layout.chain) {
      ctx.moveTo(c.sx, 0);
      ctx.lineTo(c.tx, 0);
    }
    ctx.strokeStyle = theme.muted;
    ctx.lineWidth = 2 / Math.max(view.scale, 0.25);
    ctx.stroke();
  }

  // Nodes, then labels when they are legible.
  const labels = view.scale >= LABEL_SCALE;
  ctx.font = '10px system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  for (const n of layout.nodes) {
    if (n.x + n.w / 2 < left || n.x - n.w / 2 > right) continue;
    const isSel = n.id === selected;
    const heat = nodeHeat?.get(n.id);
    ctx.fillStyle = heat !== undefined ? colorScale(heat) : isSel ? theme.accent : n.kind === 'dense' ? theme.node : theme.transition;
    ctx.fillRect(n.x - n.w / 2, -NODE_H / 2, n.w, NODE_H);
    ctx.strokeStyle = isSel ? theme.accent : theme.nodeStroke;
    ctx.lineWidth = (isSel && heat !== undefined ? 3 : 1) / Math.max(view.scale, 0.25);
    ctx.strokeRect(n.x - n.w / 2, -NODE_H / 2, n.w, NODE_H);
    if (labels) {
      // Viridis is dark below about 0.6: light text there, dark above.
      ctx.fillStyle = heat !== undefined ? (heat < 0.6 ? '#fff' : '#111') : isSel ? theme.bg : theme.fg;
      ctx.fillText(n.short, n.x, 0);
      ctx.fillStyle = theme.muted;
      ctx.fillText(n.volume, n.x, NODE_H / 2 + 10 + (n.kind === 'dense' && Number(n.short) % 2 === 0 ? 11 : 0));
    }
  }
  // Block spans, in screen space at a fixed size: a bracket under each expanded block's layers,
  // labelled with its channel growth where that fits (else its name); clicking one selects the block.
  ctx.setTransform(size.dpr, 0, 0, size.dpr, 0, 0);
  ctx.font = '11px system-ui, sans-serif';
  const band = blockBandY(view);
  for (const b of layout.blocks) {
    const x0 = b.x0 * view.scale + view.tx;
    const x1 = b.x1 * view.scale + view.tx;
    if (x1 < 0 || x0 > size.width || x1 - x0 < 10) continue;
    const isSel = b.id === selected;
    ctx.beginPath();
    ctx.moveTo(x0, band - 12);
    ctx.lineTo(x0, band - 8);
    ctx.lineTo(x1, band - 8);
    ctx.lineTo(x1, band - 12);
    ctx.strokeStyle = isSel ? theme.accent : theme.nodeStroke;
    ctx.lineWidth = isSel ? 2 : 1;
    ctx.stroke();
    const room = x1 - x0 + 24;
    const short = `Block ${b.block}`;
    const text = ctx.measureText(b.label).width <= room ? b.label : ctx.measureText(short).width <= room ? short : `B${b.block}`;
    ctx.fillStyle = isSel ? theme.accent : theme.fg;
    ctx.fillText(text, (x0 + x1) / 2, band + 2);
  }
  ctx.restore();
  return drawn;
}
