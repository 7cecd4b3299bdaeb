// intake: the integrators' CustodyGateway on 127.0.0.1, on the in-process bus.
// Transport: loopback without TLS; every call is authenticated by the integrator's Ed25519
// request signature (intake accepts signed calls without a client certificate; mTLS pins a
// certificate in addition when the transport has one — the distributed deployment's job).
import type { EventBus } from '@custody/event-bus';
import { INTAKE_MIGRATIONS, startIntake, type IntakeHandle } from '@custody/intake';
import type { Logger } from '@custody/platform';
import type { EmbeddedDatabases, ServiceDatabase } from '../database.js';

export async function provisionIntake(dbs: EmbeddedDatabases): Promise<ServiceDatabase> {
  return dbs.provision('intake', INTAKE_MIGRATIONS);
}

export function composeIntake(deps: { bus: EventBus; db: ServiceDatabase; logger: Logger; clock: { now(): Date }; port: number }): Promise<IntakeHandle> {
  return startIntake({
    bus: deps.bus,
    database: deps.db.app,
    logger: deps.logger.child({ service: 'intake' }),
    clock: deps.clock,
    grpc: { host: '127.0.0.1', port: deps.port, credentials: { kind: 'insecure' } },
    outboxPollIntervalMs: 50,
  });
}
