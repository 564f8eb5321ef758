import type { ConnectivityGraph, GraphNode } from '../../../shared/architecture';
import type { ContributionBlockSpec } from './contributions';

/**
 * Where the inspectors look, read off the connectivity graph (shared/architecture/graph.ts), so the
 * inspectors, the renderer's graph and the model builder agree on names by construction.
 * Results are keyed by graph node id (`conv1`, `conv2_block3`, `pool2`, `predictions`):
 *   - stem, dense layers and transitions: the node's `outputLayer`, i.e. what it adds to the next
 *     concatenation (a dense layer's k new maps; its `_2_drop` when dropout is on, the identity at
 *     inference, so the same values as its `_2_conv`);
 *   - the classifier (`predictions`): its input features, the global pool's output.
 */
export interface ProbePoint {
  /** Graph node id; the key of every inspection result. */
  node: string;
  /** The model layer whose output is probed. */
  layer: string;
  kind: GraphNode['kind'];
  block: number;
}

/** The global pool of the classifier node (`avg_pool`): the classifier's input. */
function classifierInput(node: GraphNode): string {
  const gap = node.layers.find((l) => l === 'avg_pool') ?? node.layers[node.layers.length - 2];
  if (!gap) throw new RangeError(`The classifier node ${node.id} has no global pool layer among ${node.layers.join(', ')}.`);
  return gap;
}

/** Every probe point, in forward order: the stem, each block's layers and transition, the classifier input. */
export function probePoints(graph: ConnectivityGraph): ProbePoint[] {
  return graph.nodes.map((n) => ({
    node: n.id,
    layer: n.kind === 'classifier' ? classifierInput(n) : n.outputLayer,
    kind: n.kind,
    block: n.block,
  }));
}

/**
 * The conv producing each dense layer's k new maps (`conv{b}_block{i}_2_conv`), keyed by node id:
 * what layer ablation zeroes. It is the last conv of the node, with or without a bottleneck.
 */
export function ablationTargets(graph: ConnectivityGraph): { node: string; conv: string }[] {
  return graph.nodes
    .filter((n) => n.kind === 'dense')
    .map((n) => {
      const convs = n.layers.filter((l) => l.endsWith('_conv'));
      if (convs.length === 0) throw new RangeError(`Dense layer ${n.id} has no conv among ${n.layers.join(', ')}.`);
      return { node: n.id, conv: convs[convs.length - 1] };
    });
}

/**
 * Fig. 5's layout per block: rows are the block's sources, columns its consumers, and each column
 * reads its consumer's `weightLayer` over the channel ranges of its incoming edges.
 */
export function contributionSpecs(graph: ConnectivityGraph): ContributionBlockSpec[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  return graph.blocks.map((b) => {
    const row = new Map(b.sources.map((s, i) => [s, i]));
    return {
      block: b.index,
      sources: [...b.sources],
      targets: b.targets.map((id) => {
        const node = byId.get(id);
        if (!node) throw new RangeError(`Block ${b.index} lists a target ${id} that is not a node of the graph.`);
        return {
          label: id,
          weightLayer: node.weightLayer,
          ranges: node.inputs.map((r) => {
            const source = row.get(r.source);
            if (source === undefined) throw new RangeError(`Node ${id} reads from ${r.source}, which is not a source of block ${b.index}.`);
            return { source, start: r.start, end: r.end };
          }),
        };
      }),
    };
  });
}
