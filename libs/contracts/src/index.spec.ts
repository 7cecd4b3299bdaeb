import { describe, it, expect } from '@jest/globals';
import { readFileSync } from 'node:fs';
import * as contracts from './index.js';

describe('@custody/contracts entry point', () => {
  it('is curated: named exports only, no export *', () => {
    const source = readFileSync(new URL('./index.ts', import.meta.url), 'utf8');
    expect(source).not.toMatch(/export\s*\*/);
  });

  it('exposes the envelope codec, the registry and the gRPC service definitions', () => {
    for (const name of ['EventEnvelope', 'DeadLetter', 'encodeEnvelope', 'decodeEnvelope', 'EVENTS', 'decodePayload', 'Topics', 'deadLetterTopic', 'CustodyGatewayServiceService', 'ApprovalServiceService', 'LedgerServiceService', 'AuditQueryServiceService', 'loadPackageDefinition']) {
      expect(contracts).toHaveProperty(name);
    }
  });
});
