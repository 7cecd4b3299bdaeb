// Runtime protobuf descriptors for gRPC server reflection (@grpc/reflection) and dynamic
// clients. Services serve with the ts-proto definitions (e.g. CustodyGatewayServiceService,
// camelCase objects, ts-proto codecs); this PackageDefinition is for reflection only.
//
// It is built from gen/descriptor.binpb, the FileDescriptorSet `buf build` makes of proto/
// (imports included), not by re-parsing .proto text. proto-loader alone is not enough for
// reflection: it decodes the set into a protobufjs Root and fills every definition's
// `fileDescriptorProtos` by re-serialising that Root, which drops each file's `dependency`
// list, makes type names relative ("google.protobuf.Timestamp" instead of
// ".google.protobuf.Timestamp"), drops json_name and names map entries after the field
// instead of "<Field>Entry". A strict client (grpcurl: protobuf-go) cannot resolve that
// ("cannot resolve type *.google.protobuf.Timestamp"). So the definitions keep
// proto-loader's codecs but carry buf's FileDescriptorProtos: the set's bytes, unchanged.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadFileDescriptorSetFromBuffer, type Options, type PackageDefinition } from '@grpc/proto-loader';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';

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

/**
 * The FileDescriptorProtos of a FileDescriptorSet (binary), each exactly as encoded in the
 * set (`repeated FileDescriptorProto file = 1`), in order.
 */
function splitFileDescriptorSet(set: Uint8Array): Buffer[] {
  const reader = new BinaryReader(set);
  const files: Buffer[] = [];
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === 1 && wireType === WireType.LengthDelimited) files.push(Buffer.from(reader.bytes()));
    else reader.skip(wireType, fieldNo);
  }
  return files;
}

let cached: PackageDefinition | undefined;

/**
 * PackageDefinition of every custody proto (and google/protobuf imports), for
 * `new ReflectionService(loadPackageDefinition()).addToServer(server)` (the platform's
 * GrpcServer takes it as `packageDefinition`). Every definition's `fileDescriptorProtos`
 * is the list of buf's FileDescriptorProtos, unchanged (see the header).
 */
export function loadPackageDefinition(): PackageDefinition {
  if (!cached) {
    const set = readFileSync(descriptorSetPath());
    const definition = loadFileDescriptorSetFromBuffer(set, { ...PROTO_LOADER_OPTIONS });
    const files = splitFileDescriptorSet(set);
    for (const node of Object.values(definition)) {
      if ('format' in node) {
        node.fileDescriptorProtos = files; // message and enum definitions (what reflection reads)
      } else {
        for (const method of Object.values(node)) {
          method.requestType.fileDescriptorProtos = files;
          method.responseType.fileDescriptorProtos = files;
        }
      }
    }
    cached = definition;
  }
  return cached;
}

/** Fully-qualified gRPC service names, e.g. for health checking and reflection. */
export const GrpcServiceNames = {
  custodyGateway: 'custody.intake.v1.CustodyGatewayService',
  intakeAdmin: 'custody.intake.v1.IntakeAdminService',
  approval: 'custody.policy.v1.ApprovalService',
  ledger: 'custody.ledger.v1.LedgerService',
  auditQuery: 'custody.audit.v1.AuditQueryService',
  chainQuery: 'custody.chain.v1.ChainQueryService',
} as const;
