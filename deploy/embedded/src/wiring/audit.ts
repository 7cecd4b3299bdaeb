// audit: the hash-chained log of every topic, with its query API (by correlation id).
import type { EventBus } from '@custody/event-bus';
import { AUDIT_MIGRATIONS, LocalEd25519Signer, startAudit, type AuditHandle } from '@custody/audit';
import type { Logger } from '@custody/platform';
import type { EmbeddedDatabases, ServiceDatabase } from '../database.js';

export function provisionAudit(dbs: EmbeddedDatabases): Promise<ServiceDatabase> {
  return dbs.provision('audit', AUDIT_MIGRATIONS);
}

export function composeAudit(deps: { bus: EventBus; db: ServiceDatabase; logger: Logger; clock: { now(): Date }; port: number; checkpointSeed: Uint8Array }): Promise<AuditHandle> {
  return startAudit({
    bus: deps.bus,
    database: deps.db.app,
    logger: deps.logger.child({ service: 'audit' }),
    clock: deps.clock,
    signer: new LocalEd25519Signer('embedded-audit-k1', deps.checkpointSeed),
    grpc: { host: '127.0.0.1', port: deps.port, credentials: { kind: 'insecure' } },
  });
}
