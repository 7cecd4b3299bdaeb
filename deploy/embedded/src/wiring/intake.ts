// intake: the integrators' CustodyGateway on 127.0.0.1, on the in-process bus.
// Transport: loopback without TLS; every call is authenticated by the integrator's Ed25519
// request signature (intake accepts signed calls without a client certificate; mTLS pins a
// certificate in addition when the transport has one — the distributed deployment's job).
// Deposit addresses: intake asks the composed signer's DepositAddressService over real gRPC
// with mTLS (intake's throw-away client certificate, wiring/tls.ts), as in production.
import { credentials } from '@grpc/grpc-js';
import type { EventBus } from '@custody/event-bus';
import { GrpcDepositAddressProvider, INTAKE_MIGRATIONS, startIntake, type IntakeHandle } from '@custody/intake';
import type { AuditHandle } from '@custody/audit';
import type { Logger } from '@custody/platform';
import type { EmbeddedDatabases, ServiceDatabase } from '../database.js';
import type { LocalMtls } from './tls.js';

export async function provisionIntake(dbs: EmbeddedDatabases): Promise<ServiceDatabase> {
  return dbs.provision('intake', INTAKE_MIGRATIONS);
}

export async function composeIntake(deps: {
  bus: EventBus;
  db: ServiceDatabase;
  logger: Logger;
  clock: { now(): Date };
  port: number;
  /** The signer's DepositAddressService (absent: GetDepositAddress fails closed). */
  signer?: { port: number; mtls: LocalMtls };
  /** Audit's operator-action gate: admin changes are recorded before they apply. */
  operatorAudit: AuditHandle['gate'];
}): Promise<IntakeHandle> {
  const logger = deps.logger.child({ service: 'intake' });
  const provider = deps.signer
    ? new GrpcDepositAddressProvider({
        address: `127.0.0.1:${deps.signer.port}`,
        credentials: credentials.createSsl(deps.signer.mtls.ca, deps.signer.mtls.client.key, deps.signer.mtls.client.cert),
        logger,
      })
    : undefined;
  try {
    const intake = await startIntake({
      bus: deps.bus,
      database: deps.db.app,
      logger,
      clock: deps.clock,
      grpc: { host: '127.0.0.1', port: deps.port, credentials: { kind: 'insecure' } },
      outboxPollIntervalMs: 50,
      operatorAudit: deps.operatorAudit,
      ...(provider ? { depositAddressProvider: provider } : {}),
    });
    return {
      ...intake,
      stop: async () => {
        await intake.stop();
        provider?.close();
      },
    };
  } catch (error) {
    provider?.close();
    throw error;
  }
}
