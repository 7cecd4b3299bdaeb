// Runtime protobuf descriptors for gRPC server reflection (@grpc/reflection) and dynamic
// clients. Services serve with the ts-proto definitions (e.g. CustodyGatewayServiceService,
// camelCase objects, ts-proto codecs); this PackageDefinition is for reflection only.
//
// It is built from gen/descriptor.binpb, the `buf build` image of proto/ (imports included),
// not by re-parsing .proto text: the descriptors grpcurl receives are then exactly buf's,
// with the proto's snake_case field names and json_name (protobufjs' text parser with
// keepCase=false would camelCase the field names inside the descriptors themselves), and
// no include directories for the well-known types are needed at runtime.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadFileDescriptorSetFromBuffer, type Options, type PackageDefinition } from '@grpc/proto-loader';

/** proto-loader options: 64-bit as String, enums as String, defaults filled in. */
export const PROTO_LOADER_OPTIONS: Readonly<Options> = Object.freeze({
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

// Source layout (src/grpc.ts -> src/gen/) and build layout (dist/grpc.js -> dist/gen/,
// copied by the build's --copy-files, falling back to the sources).
const candidates = ['./gen/descriptor.binpb', '../src/gen/descriptor.binpb'];

/** Path of the descriptor set (FileDescriptorSet, binary) of every proto in proto/. */
export function descriptorSetPath(): string {
  for (const candidate of candidates) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('@custody/contracts: gen/descriptor.binpb not found; run `npm run proto:gen`');
}

let cached: PackageDefinition | undefined;

/**
 * PackageDefinition of every custody proto (and google/protobuf imports), for
 * `new ReflectionService(loadPackageDefinition()).addToServer(server)`.
 */
export function loadPackageDefinition(): PackageDefinition {
  cached ??= loadFileDescriptorSetFromBuffer(readFileSync(descriptorSetPath()), { ...PROTO_LOADER_OPTIONS });
  return cached;
}

/** Fully-qualified gRPC service names, e.g. for health checking and reflection. */
export const GrpcServiceNames = {
  custodyGateway: 'custody.intake.v1.CustodyGatewayService',
  approval: 'custody.policy.v1.ApprovalService',
  ledger: 'custody.ledger.v1.LedgerService',
  auditQuery: 'custody.audit.v1.AuditQueryService',
} as const;
