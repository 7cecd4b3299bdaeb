// How a service's gRPC server is secured, from the environment: one definition for every
// service's config.ts.
//   CUSTODY_GRPC_TLS=mtls     CUSTODY_GRPC_TLS_CERT_FILE, _KEY_FILE, _CLIENT_CA_FILE (client
//                             certificates required)
//   CUSTODY_GRPC_TLS=insecure plaintext (loopback tests and the embedded default)
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { envVar } from './config-fields.js';
import type { GrpcServerCredentials } from './grpc-server.js';

export const grpcServerTlsEnv = z.discriminatedUnion('CUSTODY_GRPC_TLS', [
  z.object({
    CUSTODY_GRPC_TLS: z.literal('mtls'),
    CUSTODY_GRPC_TLS_CERT_FILE: envVar.string({ minLength: 1 }),
    CUSTODY_GRPC_TLS_KEY_FILE: envVar.string({ minLength: 1 }),
    CUSTODY_GRPC_TLS_CLIENT_CA_FILE: envVar.string({ minLength: 1 }),
  }),
  z.object({ CUSTODY_GRPC_TLS: z.literal('insecure') }),
]);

export type GrpcServerTlsEnv = z.output<typeof grpcServerTlsEnv>;

/** Server credentials for the validated settings; with mTLS the three files are read now. */
export function grpcServerCredentials(e: GrpcServerTlsEnv): GrpcServerCredentials {
  return e.CUSTODY_GRPC_TLS === 'mtls'
    ? {
        kind: 'tls',
        certChain: readFileSync(e.CUSTODY_GRPC_TLS_CERT_FILE),
        privateKey: readFileSync(e.CUSTODY_GRPC_TLS_KEY_FILE),
        clientCa: readFileSync(e.CUSTODY_GRPC_TLS_CLIENT_CA_FILE),
        requireClientCertificate: true,
      }
    : { kind: 'insecure' };
}
