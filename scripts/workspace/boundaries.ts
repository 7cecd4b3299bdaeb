// The dependency rule of the workspace, checked on the graph Nx computes from the code:
// services depend on libs only; libs never depend on services; generated contracts depend
// on nothing of ours. A composition root (deploy/embedded, tag type:composition) wires
// services together in one process; it may depend on services, and nothing depends on it. ESLint's @nx/enforce-module-boundaries enforces the same rule per
// import; this check reads the whole graph so a misconfigured lint cannot hide an edge.

export interface ProjectGraphJson {
  graph: {
    nodes: Record<string, { name: string; type: string; data: { root: string; tags?: string[] } }>;
    dependencies: Record<string, Array<{ source: string; target: string; type: string }>>;
  };
}

export interface BoundaryViolation {
  readonly source: string;
  readonly target: string;
  readonly rule: string;
}

type Kind = 'service' | 'lib' | 'generated' | 'composition';

function kindOf(tags: readonly string[]): Kind | undefined {
  if (tags.includes('type:composition')) return 'composition';
  if (tags.includes('type:service')) return 'service';
  if (tags.includes('type:generated')) return 'generated';
  if (tags.includes('type:lib')) return 'lib';
  return undefined;
}

export function findBoundaryViolations(json: ProjectGraphJson): BoundaryViolation[] {
  const violations: BoundaryViolation[] = [];
  const nodes = json.graph.nodes;
  for (const [name, node] of Object.entries(nodes)) {
    const root = node.data.root;
    const kind = kindOf(node.data.tags ?? []);
    if (root.startsWith('services/') && kind !== 'service') {
      violations.push({ source: name, target: name, rule: 'a project under services/ must be tagged type:service' });
    }
    if (root.startsWith('libs/') && kind !== 'lib' && kind !== 'generated') {
      violations.push({ source: name, target: name, rule: 'a project under libs/ must be tagged type:lib or type:generated' });
    }
  }
  for (const [source, deps] of Object.entries(json.graph.dependencies)) {
    const sourceNode = nodes[source];
    if (!sourceNode) continue;
    const sourceKind = kindOf(sourceNode.data.tags ?? []);
    for (const dep of deps) {
      const targetNode = nodes[dep.target];
      if (!targetNode) continue; // npm packages are not workspace projects
      const targetKind = kindOf(targetNode.data.tags ?? []);
      if (targetKind === 'composition') {
        violations.push({ source, target: dep.target, rule: 'nothing depends on a composition root' });
      } else if (targetKind === 'service' && sourceKind !== 'composition') {
        violations.push({
          source,
          target: dep.target,
          rule: sourceKind === 'service' ? 'a service never imports another service' : 'a lib never imports a service',
        });
      } else if (sourceKind === 'generated') {
        violations.push({ source, target: dep.target, rule: 'generated contracts depend on nothing of ours' });
      }
    }
  }
  return violations;
}
