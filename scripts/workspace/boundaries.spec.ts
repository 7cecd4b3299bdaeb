import { describe, it, expect } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBoundaryViolations, type ProjectGraphJson } from './boundaries.js';

function node(name: string, root: string, tags: string[]) {
  return { name, type: root.startsWith('services/') ? 'app' : 'lib', data: { root, tags } };
}

describe('workspace boundaries (Nx project graph)', () => {
  it('the real graph has libs → services edges only, never service → service', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nx-graph-'));
    try {
      const file = join(dir, 'graph.json');
      execFileSync('npx', ['nx', 'graph', `--file=${file}`], {
        env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
        stdio: 'pipe',
      });
      const graph = JSON.parse(readFileSync(file, 'utf8')) as ProjectGraphJson;
      expect(Object.keys(graph.graph.nodes)).toEqual(expect.arrayContaining(['platform', 'event-bus', 'contracts']));
      // The graph has the edges of the code (nx.json pluginsConfig @nx/js analyzeSourceFiles):
      // without them there is nothing to check and this test would pass on any code.
      expect((graph.graph.dependencies['intake'] ?? []).map((d) => d.target)).toEqual(expect.arrayContaining(['platform', 'contracts', 'event-bus']));
      expect(findBoundaryViolations(graph)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a service importing another service, a lib importing a service, an untagged service, and a dependency on the composition root (which itself may import services)', () => {
    const graph: ProjectGraphJson = {
      graph: {
        nodes: {
          intake: node('intake', 'services/intake', ['type:service']),
          signer: node('signer', 'services/signer', ['type:service']),
          platform: node('platform', 'libs/platform', ['type:lib']),
          contracts: node('contracts', 'libs/contracts', ['type:generated']),
          rogue: node('rogue', 'services/rogue', []),
          embedded: node('embedded', 'deploy/embedded', ['type:composition']),
        },
        dependencies: {
          intake: [
            { source: 'intake', target: 'platform', type: 'static' },
            { source: 'intake', target: 'signer', type: 'static' },
          ],
          platform: [{ source: 'platform', target: 'intake', type: 'static' }],
          contracts: [{ source: 'contracts', target: 'platform', type: 'static' }],
          signer: [
            { source: 'signer', target: 'npm:@noble/curves', type: 'static' },
            { source: 'signer', target: 'embedded', type: 'static' },
          ],
          embedded: [
            { source: 'embedded', target: 'intake', type: 'static' },
            { source: 'embedded', target: 'platform', type: 'static' },
          ],
        },
      },
    };
    expect(findBoundaryViolations(graph)).toEqual([
      { source: 'rogue', target: 'rogue', rule: 'a project under services/ must be tagged type:service' },
      { source: 'intake', target: 'signer', rule: 'a service never imports another service' },
      { source: 'platform', target: 'intake', rule: 'a lib never imports a service' },
      { source: 'contracts', target: 'platform', rule: 'generated contracts depend on nothing of ours' },
      { source: 'signer', target: 'embedded', rule: 'nothing depends on a composition root' },
    ]);
  });
});
