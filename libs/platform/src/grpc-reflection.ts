// What GrpcServer's server reflection serves: FileDescriptorProtos a stock client (grpcurl,
// anything on protobuf-go or protobuf C++) can resolve.
//
// @grpc/reflection serves the FileDescriptorProtos it finds in the `fileDescriptorProtos`
// of a proto-loader PackageDefinition. proto-loader fills those by re-serialising its
// protobufjs Root (`root.toDescriptor()`), not with the compiler's output, and that
// re-serialisation loses what strict clients check: each file's `dependency` list is
// empty (so google/protobuf/timestamp.proto is never fetched: "cannot resolve type
// *.google.protobuf.Timestamp"), type names are relative ("HealthCheckResponse" instead of
// ".grpc.health.v1.HealthCheckResponse"), json_name is dropped, and map entries are named
// after the field ("Statuses") instead of "<Field>Entry" ("incorrect implicit map entry
// name"). So reflection here is built from compiler output only:
//   - the health and reflection protos: gen/grpc-platform.binpb, built by buf from the protos
//     the implementations load (scripts/grpc-descriptors.sh);
//   - the application's: the packageDefinition's `fileDescriptorProtos`, which must come
//     from a descriptor set (`loadPackageDefinition()` of @custody/contracts carries buf's
//     bytes). They are checked here, so a definition a client cannot resolve (e.g.
//     proto-loader `loadSync` of .proto text) fails at construction instead of
//     in the first grpcurl session.
// @grpc/reflection decodes and re-encodes each file with protobufjs' descriptor.proto; the
// messages a client receives are equal to buf's (checked by the grpcurl integration test).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { PackageDefinition, ProtobufTypeDefinition } from '@grpc/proto-loader';
import { create, createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import {
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
  FileDescriptorSetSchema,
  type DescriptorProto,
  type FileDescriptorProto,
} from '@bufbuild/protobuf/wkt';

/** A file descriptor as served: its encoded bytes and the decoded message. */
export interface ReflectedFile {
  readonly name: string;
  readonly bytes: Buffer;
  readonly proto: FileDescriptorProto;
}

/** Each FileDescriptorProto of a FileDescriptorSet (binary), exactly as encoded in it, in order. */
export function splitFileDescriptorSet(set: Uint8Array): Buffer[] {
  const reader = new BinaryReader(set);
  const files: Buffer[] = [];
  while (reader.pos < reader.len) {
    const [fieldNo, wireType] = reader.tag();
    if (fieldNo === 1 && wireType === WireType.LengthDelimited) files.push(Buffer.from(reader.bytes()));
    else reader.skip(wireType, fieldNo);
  }
  return files;
}

// Source layout (src/grpc-reflection.ts -> src/gen/) and build layout (dist/ -> dist/gen/,
// copied by the build's --copy-files), falling back to the sources.
const platformDescriptorCandidates = ['./gen/grpc-platform.binpb', '../src/gen/grpc-platform.binpb'];

/** Path of the FileDescriptorSet of the health and reflection protos. */
export function platformDescriptorSetPath(): string {
  for (const candidate of platformDescriptorCandidates) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new Error('@custody/platform: gen/grpc-platform.binpb not found; run `bash libs/platform/scripts/grpc-descriptors.sh`');
}

let platformFiles: readonly Buffer[] | undefined;

/** buf's FileDescriptorProtos of grpc/health/v1/health.proto and grpc/reflection/v1{,alpha}/reflection.proto. */
export function platformFileDescriptorProtos(): readonly Buffer[] {
  platformFiles ??= Object.freeze(splitFileDescriptorSet(readFileSync(platformDescriptorSetPath())));
  return platformFiles;
}

/** Every distinct buffer in the definitions' `fileDescriptorProtos`, in first-seen order. */
function fileDescriptorProtosOf(definition: PackageDefinition): Buffer[] {
  const seen = new Set<Buffer>();
  const lists = new Set<readonly Buffer[]>();
  for (const node of Object.values(definition)) {
    if ('fileDescriptorProtos' in node && Array.isArray(node.fileDescriptorProtos)) lists.add(node.fileDescriptorProtos);
  }
  for (const list of lists) for (const bytes of list) seen.add(bytes);
  return [...seen];
}

/** protobuf's implicit map entry name: `statuses` -> `StatusesEntry`, `foo_bar` -> `FooBarEntry`. */
export function mapEntryName(fieldName: string): string {
  let out = '';
  let upperNext = true;
  for (const c of fieldName) {
    if (c === '_') upperNext = true;
    else {
      out += upperNext ? c.toUpperCase() : c;
      upperNext = false;
    }
  }
  return `${out}Entry`;
}

function checkMapEntries(file: string, scope: string, message: DescriptorProto): void {
  const fullName = `${scope}.${message.name}`;
  for (const nested of message.nestedType) {
    if (!nested.options?.mapEntry) continue;
    for (const field of message.field) {
      if (field.type !== FieldDescriptorProto_Type.MESSAGE) continue;
      if (field.typeName !== `${fullName}.${nested.name}` && field.typeName !== nested.name) continue;
      const expected = mapEntryName(field.name);
      if (nested.name !== expected) {
        throw new Error(`${file}: map field ${fullName.slice(1)}.${field.name} has entry ${nested.name}, not ${expected}`);
      }
    }
  }
  for (const nested of message.nestedType) checkMapEntries(file, fullName, nested);
}

/**
 * Throws unless every file's imports are in the set, every type name resolves (fully
 * qualified, as compilers write them) and map entries carry their implicit names: what
 * grpcurl needs to describe and call anything it is served.
 */
export function assertResolvable(files: readonly ReflectedFile[]): void {
  createFileRegistry(create(FileDescriptorSetSchema, { file: files.map((f) => f.proto) }));
  for (const { name, proto } of files) {
    const scope = proto.package ? `.${proto.package}` : '';
    for (const message of proto.messageType) checkMapEntries(name, scope, message);
  }
}

/**
 * The files reflection serves: the platform's (health, reflection) then the application's,
 * one per file name, checked with `assertResolvable`.
 */
export function reflectedFiles(application: PackageDefinition): ReflectedFile[] {
  const byName = new Map<string, ReflectedFile>();
  for (const bytes of [...platformFileDescriptorProtos(), ...fileDescriptorProtosOf(application)]) {
    const proto = fromBinary(FileDescriptorProtoSchema, bytes);
    const existing = byName.get(proto.name);
    if (existing) {
      if (!existing.bytes.equals(bytes)) throw new TypeError(`gRPC reflection: two different descriptors of ${proto.name}`);
      continue;
    }
    byName.set(proto.name, { name: proto.name, bytes, proto });
  }
  const files = [...byName.values()];
  try {
    assertResolvable(files);
  } catch (err) {
    const reason = err instanceof Error && err.message ? err.message : String(err);
    throw new TypeError(
      `gRPC reflection: the packageDefinition's file descriptors cannot be resolved by a client (${reason}). ` +
        'Build it from a FileDescriptorSet with the compiler output kept (e.g. loadPackageDefinition() of @custody/contracts), ' +
        "not with proto-loader's loadSync of .proto text",
      { cause: err },
    );
  }
  return files;
}

/**
 * The files as the input of `new ReflectionService(...)`: it reads nothing of a
 * PackageDefinition but each entry's `fileDescriptorProtos` (keeping the first file of each
 * name), so there is one entry per file, not a loadable definition (hence the cast).
 */
export function reflectionPackageDefinition(files: readonly ReflectedFile[]): PackageDefinition {
  const entries: Record<string, ProtobufTypeDefinition> = {};
  for (const f of files) entries[f.name] = { format: 'FileDescriptorProto', type: {}, fileDescriptorProtos: [f.bytes] };
  return entries as unknown as PackageDefinition;
}

/** Fully-qualified names of the services declared in the files. */
export function declaredServices(files: readonly ReflectedFile[]): Set<string> {
  const names = new Set<string>();
  for (const { proto } of files) for (const service of proto.service) names.add(proto.package ? `${proto.package}.${service.name}` : service.name);
  return names;
}
