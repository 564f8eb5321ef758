import type { ConnectivityGraph, GraphNode } from '../../../../shared/architecture/graph';
import type { ContributionMatrix } from '../../../../shared/protocol';

/**
 * Layout of the dense connectivity graph as an arc diagram: every node on one baseline in
 * forward order, every concatenation edge an arc above it (paper Fig. 1 unrolled). Arcs make
 * DenseNet's ℓ(ℓ+1)/2 edges per block readable and cheap to draw: a block of DenseNet-264 has
 * 65 consumers and 2,145 arcs, drawn as a dozen canvas paths (one per colour bin). Pure functions,
 * so the component tests can check edge counts and hit-testing without a canvas.
 */
export interface PlacedNode {
  id: string;
  /** A real graph node, or a collapsed block standing for all its dense layers. */
  kind: GraphNode['kind'] | 'collapsed';
  block: number;
  label: string;
  /** Short text inside the box: layer index, T1, FC, ... */
  short: string;
  /** Volume text under the box, e.g. 28×28×4. */
  volume: string;
  x: number;
  w: number;
}

export interface PlacedEdge {
  source: string;
  target: string;
  block: number;
  sx: number;
  tx: number;
  /** Index of source and target within the block's Fig. 5 rows/columns, for colouring. */
  row: number;
  col: number;
}

/** A dense block's span under its layers, labelled and clickable (selects `block{b}`). */
export interface PlacedBlock {
  id: string;
  block: number;
  /** `Dense block 1 · 16 → 32`. */
  label: string;
  x0: number;
  x1: number;
}

export interface GraphLayout {
  nodes: PlacedNode[];
  /** Expanded blocks only: a collapsed block is its own node. */
  blocks: PlacedBlock[];
  edges: PlacedEdge[];
  /** Links drawn for collapsed blocks: block input -> block box -> consumer. */
  chain: { sx: number; tx: number }[];
  width: number;
  /** Tallest arc, for fitting the view. */
  height: number;
}

export const NODE_H = 22;
/** Zoom from which node labels are drawn (below it they would not be legible). */
export const LABEL_SCALE = 0.45;

/**
 * Screen y of the centre of the block labels' band (CSS px in the canvas), just below the nodes and
 * their volume labels. Block labels are drawn at a fixed size at every zoom: they are how a deep
 * net is read and navigated when its layers are too small to label.
 */
export function blockBandY(view: { scale: number; ty: number }): number {
  return view.ty + (view.scale >= LABEL_SCALE ? NODE_H / 2 + 27 : NODE_H / 2) * view.scale + 14;
}
const DENSE_W = 30;
const WIDE_W = 52;
const GAP = 12;
const BLOCK_GAP = 28;

/** Arc height for an edge spanning `span` world units. */
export function arcHeight(span: number): number {
  return Math.min(span * 0.42, 420);
}

export function layoutGraph(graph: ConnectivityGraph, collapsed: ReadonlySet<number> = new Set()): GraphLayout {
  const nodes: PlacedNode[] = [];
  const at = new Map<string, PlacedNode>();
  const chain: GraphLayout['chain'] = [];
  let x = 0;
  const place = (n: Omit<PlacedNode, 'x'>) => {
    const placed = { ...n, x: x + n.w / 2 };
    x += n.w + GAP;
    nodes.push(placed);
    at.set(placed.id, placed);
    return placed;
  };
  const vol = (v: number[]) => v.join('×');

  let prev: PlacedNode | null = null;
  for (const n of graph.nodes) {
    if (n.kind === 'dense' && collapsed.has(n.block)) {
      if (n.index !== 1) continue;
      x += BLOCK_GAP - GAP;
      const layers = graph.nodes.filter((m) => m.kind === 'dense' && m.block === n.block).length;
      const box = place({ id: `block${n.block}`, kind: 'collapsed', block: n.block, label: `Dense block ${n.block} (${layers} layers, collapsed)`, short: `B${n.block}×${layers}`, volume: `+${layers}×${n.volume[2]}`, w: 64 });
      if (prev) chain.push({ sx: prev.x, tx: box.x });
      prev = box;
      continue;
    }
    if (n.kind === 'dense' && n.index === 1) x += BLOCK_GAP - GAP;
    if (n.kind !== 'dense' && n.block > 0) x += BLOCK_GAP - GAP;
    const short = n.kind === 'stem' ? 'Stem' : n.kind === 'transition' ? `T${n.block}` : n.kind === 'classifier' ? 'FC' : String(n.index);
    const placed = place({ id: n.id, kind: n.kind, block: n.block, label: n.label, short, volume: vol(n.volume), w: n.kind === 'dense' ? DENSE_W : WIDE_W });
    if (prev && prev.kind === 'collapsed') chain.push({ sx: prev.x, tx: placed.x });
    prev = placed;
  }

  const blocks: PlacedBlock[] = [];
  for (const b of graph.blocks) {
    if (collapsed.has(b.index)) continue;
    const layers = b.targets.slice(0, -1).map((id) => at.get(id)).filter((n): n is PlacedNode => !!n);
    if (layers.length === 0) continue;
    const input = graph.nodes.find((n) => n.id === b.sources[0]);
    const last = graph.nodes.find((n) => n.id === b.targets[b.targets.length - 2]);
    const cin = input?.volume[input.volume.length - 1];
    const cout = last ? last.inputChannels + last.volume[last.volume.length - 1] : undefined;
    blocks.push({
      id: `block${b.index}`, block: b.index, label: `Dense block ${b.index}${cin !== undefined && cout !== undefined ? ` · ${cin} → ${cout}` : ''}`,
      x0: layers[0].x - layers[0].w / 2, x1: layers[layers.length - 1].x + layers[layers.length - 1].w / 2,
    });
  }

  const edges: PlacedEdge[] = [];
  let height = 0;
  for (const b of graph.blocks) {
    if (collapsed.has(b.index)) continue;
    const row = new Map(b.sources.map((id, i) => [id, i]));
    const col = new Map(b.targets.map((id, i) => [id, i]));
    for (const e of graph.edges) {
      if (e.block !== b.index) continue;
      const s = at.get(e.source);
      const t = at.get(e.target);
      if (!s || !t) continue;
      edges.push({ source: e.source, target: e.target, block: e.block, sx: s.x, tx: t.x, row: row.get(e.source) ?? 0, col: col.get(e.target) ?? 0 });
      height = Math.max(height, arcHeight(t.x - s.x));
    }
  }
  return { nodes, blocks, edges, chain, width: Math.max(0, x - GAP), height };
}

/** The expanded block whose label band is under screen point (sx, sy) in this view, or null. */
export function hitTestBlock(layout: GraphLayout, view: { scale: number; tx: number; ty: number }, sx: number, sy: number): PlacedBlock | null {
  if (Math.abs(sy - blockBandY(view)) > 10) return null;
  const wx = (sx - view.tx) / view.scale;
  const slack = 4 / view.scale;
  return layout.blocks.find((b) => wx >= b.x0 - slack && wx <= b.x1 + slack) ?? null;
}

/** The node under world point (wx, wy), or null. Nodes sit on y ∈ [-NODE_H/2, NODE_H/2]. */
export function hitTest(layout: GraphLayout, wx: number, wy: number): PlacedNode | null {
  if (Math.abs(wy) > NODE_H / 2 + 2) return null;
  // Nodes are sorted by x: binary search the first whose right edge is past wx.
  let lo = 0;
  let hi = layout.nodes.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const n = layout.nodes[mid];
    if (n.x + n.w / 2 < wx) lo = mid + 1;
    else hi = mid;
  }
  const n = layout.nodes[lo];
  return n && Math.abs(wx - n.x) <= n.w / 2 + 1 ? n : null;
}

/**
 * Edge strengths in [0, 1] from the latest contribution matrices (values[target][source]),
 * normalized by the largest value of each block as Fig. 5's colour scale is. Null where unknown.
 */
export function edgeStrengths(layout: GraphLayout, matrices: readonly ContributionMatrix[] | null): (number | null)[] {
  if (!matrices || matrices.length === 0) return layout.edges.map(() => null);
  const byBlock = new Map(matrices.map((m) => [m.block, m]));
  const maxOf = new Map<number, number>();
  for (const m of matrices) {
    let max = 0;
    for (const row of m.values) for (const v of row) if (v !== null && Math.abs(v) > max) max = Math.abs(v);
    maxOf.set(m.block, max);
  }
  return layout.edges.map((e) => {
    const m = byBlock.get(e.block);
    const v = m?.values[e.col]?.[e.row];
    const max = maxOf.get(e.block) ?? 0;
    return v === null || v === undefined || max === 0 ? null : Math.abs(v) / max;
  });
}
