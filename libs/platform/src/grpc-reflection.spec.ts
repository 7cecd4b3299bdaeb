// The descriptors GrpcServer's reflection serves (no socket is opened): buf's health and
// reflection descriptors (fresh), the contracts' definition carrying buf's bytes, and the
// refusal of what a strict client could not resolve (proto-loader's re-serialisation of
// .proto text: relative type names, no imports, misnamed map entries).
import { describe, it, expect, afterAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { clone, fromBinary, toBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { CustodyGatewayServiceService, descriptorSetPath, loadPackageDefinition } from '@custody/contracts';
import { assertResolvable, mapEntryName, platformFileDescriptorProtos, reflectedFiles, splitFileDescriptorSet, type ReflectedFile } from './grpc-reflection.js';
import { GrpcServer } from './grpc-server.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'platform-reflection-spec-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const decode = (bytes: Uint8Array) => fromBinary(FileDescriptorProtoSchema, bytes);
const gatewayService = { definition: CustodyGatewayServiceService, implementation: {} as UntypedServiceImplementation };
const options = { port: 0, credentials: { kind: 'insecure' } as const };

describe('gRPC reflection descriptors', () => {
  it('gen/grpc-platform.binpb is fresh (scripts/grpc-descriptors.sh output == libs/platform/src/gen)', () => {
    const out = join(scratch, 'gen');
    execFileSync('bash', [join(root, 'libs/platform/scripts/grpc-descriptors.sh'), out], { cwd: root, stdio: 'pipe', timeout: 60_000 });
    const committed = join(root, 'libs/platform/src/gen');
    expect(readdirSync(committed).sort()).toEqual(readdirSync(out).sort());
    // Run `bash libs/platform/scripts/grpc-descriptors.sh` and commit the result if this fails.
    for (const f of readdirSync(out)) expect({ f, fresh: readFileSync(join(out, f)).equals(readFileSync(join(committed, f))) }).toEqual({ f, fresh: true });
  });

  it('health and reflection descriptors are compiler output: canonical names, qualified types, StatusesEntry', () => {
    const files = platformFileDescriptorProtos().map(decode);
    expect(files.map((f) => f.name)).toEqual(['grpc/health/v1/health.proto', 'grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto']);
    const list = files[0]?.messageType.find((m) => m.name === 'HealthListResponse');
    expect(list?.nestedType.map((n) => n.name)).toEqual(['StatusesEntry']);
    expect(list?.field[0]?.typeName).toBe('.grpc.health.v1.HealthListResponse.StatusesEntry');
  });

  it('splits a FileDescriptorSet into its files byte for byte', () => {
    const set = readFileSync(descriptorSetPath());
    const files = splitFileDescriptorSet(set);
    expect(files.map((f) => decode(f).name)).toContain('google/protobuf/timestamp.proto');
    expect(files.map((f) => decode(f).name)).toEqual(fromBinary(FileDescriptorSetSchema, set).file.map((f) => f.name));
    // field 1, length-delimited, then the bytes: the set is exactly the concatenation.
    const reassembled = Buffer.concat(files.flatMap((f) => [Buffer.from([0x0a]), varint(f.length), f]));
    expect(reassembled.equals(set)).toBe(true);
  });

  it("the contracts' package definition carries buf's FileDescriptorProtos, not proto-loader's re-serialisation", () => {
    const exact = splitFileDescriptorSet(readFileSync(descriptorSetPath()));
    const definition = loadPackageDefinition();
    const withdrawal = definition['custody.intake.v1.Withdrawal'] as { fileDescriptorProtos: Buffer[] };
    expect(withdrawal.fileDescriptorProtos).toEqual(exact);
    const gateway = decode(exact.find((f) => decode(f).name === 'custody/intake/v1/custody_gateway.proto')!);
    expect(gateway.dependency).toEqual(['google/protobuf/timestamp.proto']);
  });

  it('implicit map entry names follow protobuf (FieldNameEntry)', () => {
    expect(mapEntryName('statuses')).toBe('StatusesEntry');
    expect(mapEntryName('labels_by_key')).toBe('LabelsByKeyEntry');
    expect(mapEntryName('v2_values')).toBe('V2ValuesEntry');
  });

  it('refuses a misnamed map entry even when everything else resolves', () => {
    const files: ReflectedFile[] = platformFileDescriptorProtos().map((bytes) => ({ name: decode(bytes).name, bytes, proto: decode(bytes) }));
    const health = clone(FileDescriptorProtoSchema, files[0]!.proto);
    const list = health.messageType.find((m) => m.name === 'HealthListResponse')!;
    list.nestedType[0]!.name = 'Statuses'; // what protobufjs' toDescriptor writes
    list.field[0]!.typeName = '.grpc.health.v1.HealthListResponse.Statuses';
    expect(() => assertResolvable(files)).not.toThrow();
    const bad = [{ name: health.name, bytes: Buffer.from(toBinary(FileDescriptorProtoSchema, health)), proto: health }, ...files.slice(1)];
    expect(() => assertResolvable(bad)).toThrow(/statuses has entry Statuses, not StatusesEntry/);
  });
});

describe('GrpcServer reflection input (no socket is opened)', () => {
  it("accepts the contracts' package definition for a contracts service", () => {
    expect(() => new GrpcServer({ ...options, services: [gatewayService], packageDefinition: loadPackageDefinition() })).not.toThrow();
    expect(reflectedFiles(loadPackageDefinition()).map((f) => f.name)).toEqual(
      expect.arrayContaining(['grpc/health/v1/health.proto', 'google/protobuf/timestamp.proto', 'custody/intake/v1/custody_gateway.proto']),
    );
  });

  it('refuses .proto text re-serialised by proto-loader when it imports another file (what grpcurl could not resolve)', () => {
    const dir = join(scratch, 'text');
    mkdirSync(join(dir, 'custody/textdemo/v1'), { recursive: true });
    writeFileSync(
      join(dir, 'custody/textdemo/v1/demo.proto'),
      'syntax = "proto3";\npackage custody.textdemo.v1;\nimport "google/protobuf/timestamp.proto";\n' +
        'service DemoService { rpc Get(GetRequest) returns (GetResponse); }\n' +
        'message GetRequest { string id = 1; }\nmessage GetResponse { google.protobuf.Timestamp at = 1; map<string, string> labels = 2; }\n',
    );
    const text = loadSync('custody/textdemo/v1/demo.proto', { includeDirs: [dir] });
    const service = { definition: text['custody.textdemo.v1.DemoService'] as never, implementation: {} };
    expect(() => new GrpcServer({ ...options, services: [service], packageDefinition: text })).toThrow(
      /file descriptors cannot be resolved by a client .*loadPackageDefinition\(\) of @custody\/contracts/,
    );
  });

  it('refuses to serve a service its package definition does not declare (reflection could not describe it)', () => {
    expect(() => new GrpcServer({ ...options, services: [gatewayService], packageDefinition: {} })).toThrow(
      /no descriptor for custody\.intake\.v1\.CustodyGatewayService/,
    );
  });
});

function varint(n: number): Buffer {
  const bytes: number[] = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  bytes.push(n);
  return Buffer.from(bytes);
}
