// Server reflection against a stock client: grpcurl (protobuf-go, strict descriptor checks)
// with nothing but reflection (no -proto / -protoset), on a GrpcServer serving a real
// contracts service (CustodyGatewayService, stub implementation: the point is reflection)
// with the contracts' packageDefinition. It resolves google/protobuf/timestamp.proto through
// the served imports and the health map entry through buf's descriptors; before, reflection
// served proto-loader's re-serialised descriptors and grpcurl failed on both.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { credentials, status, type ClientDuplexStream, type sendUnaryData, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { equals, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import {
  CustodyGatewayServiceService,
  descriptorSetPath,
  GetServiceStatusResponse,
  GrpcServiceNames,
  loadPackageDefinition,
  timestampFromDate,
  type CustodyGatewayServiceServer,
} from '@custody/contracts';
import { GrpcServer } from '../../src/index.js';
import { platformDescriptorSetPath } from '../../src/grpc-reflection.js';
import { ReflectionV1Client } from '../fixtures/grpc.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const GATEWAY = GrpcServiceNames.custodyGateway;

/** GRPCURL_BIN (set by .local/infra.env), else the link scripts/infra/grpcurl.sh makes. */
function grpcurlPath(): string {
  const bin = process.env.GRPCURL_BIN || `${root}.local/bin/grpcurl`;
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(`grpcurl not found or not executable at ${bin}: install it with \`bash scripts/infra/grpcurl.sh\` (or set GRPCURL_BIN)`);
  }
  return bin;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let bin: string;
let server: GrpcServer;

// Asynchronous on purpose: the server runs in this process, a synchronous spawn would block it.
function grpcurl(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(bin, ['-plaintext', '-max-time', '20', ...args], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Asserts success, showing grpcurl's own words when it is not. */
function ok(run: Run): string {
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  return run.stdout;
}

const unimplemented = (_call: unknown, callback: sendUnaryData<never>): void => callback({ code: status.UNIMPLEMENTED, details: 'stub' });
const gateway: CustodyGatewayServiceServer = {
  submitWithdrawal: unimplemented,
  getWithdrawal: unimplemented,
  listWithdrawals: unimplemented,
  cancelWithdrawal: unimplemented,
  getDepositAddress: unimplemented,
  watchWithdrawals: (call) => call.destroy(new Error('stub')),
  getServiceStatus: (_call, callback) =>
    callback(
      null,
      GetServiceStatusResponse.fromPartial({
        assets: [{ asset: 'ETH', chain: 'ethereum', withdrawalsEnabled: true, depositsEnabled: true }],
        maintenance: [{ maintenanceId: 'mw-1', chains: ['bitcoin'], startsAt: timestampFromDate(new Date('2030-01-02T03:04:05Z')) }],
      }),
    ),
};

beforeAll(async () => {
  bin = grpcurlPath();
  server = new GrpcServer({
    host: '127.0.0.1',
    port: 0,
    services: [{ definition: CustodyGatewayServiceService, implementation: gateway as unknown as UntypedServiceImplementation }],
    packageDefinition: loadPackageDefinition(),
    credentials: { kind: 'insecure' },
  });
  await server.start();
});

afterAll(async () => {
  await server?.shutdown(1_000);
});

describe('server reflection with a stock client (grpcurl)', () => {
  it('list: exactly the services this server serves', async () => {
    const names = ok(await grpcurl(server.address, 'list')).trim().split('\n');
    // Not the other services the contracts' descriptors declare (ledger, approval, ...).
    expect(names).toEqual([GATEWAY, 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection']);
  });

  it('describe custody.intake.v1.CustodyGatewayService', async () => {
    const out = ok(await grpcurl(server.address, 'describe', GATEWAY));
    expect(out).toMatch(/^custody\.intake\.v1\.CustodyGatewayService is a service:/);
    expect(out).toContain('rpc SubmitWithdrawal ( .custody.intake.v1.SubmitWithdrawalRequest ) returns ( .custody.intake.v1.SubmitWithdrawalResponse );');
    expect(out).toContain('rpc WatchWithdrawals ( .custody.intake.v1.WatchWithdrawalsRequest ) returns ( stream .custody.intake.v1.WatchWithdrawalsResponse );');
    expect(out.match(/^\s+rpc /gm)).toHaveLength(Object.keys(CustodyGatewayServiceService).length);
  });

  it('describe custody.intake.v1.Withdrawal: google.protobuf.Timestamp resolved through the served import', async () => {
    const out = ok(await grpcurl(server.address, 'describe', 'custody.intake.v1.Withdrawal'));
    expect(out).toMatch(/^custody\.intake\.v1\.Withdrawal is a message:/);
    expect(out).toContain('string withdrawal_id = 1;');
    expect(out).toContain('.custody.intake.v1.WithdrawalState state = 8;');
    expect(out).toContain('.google.protobuf.Timestamp created_at = 12;');
    const timestamp = ok(await grpcurl(server.address, 'describe', 'google.protobuf.Timestamp'));
    expect(timestamp).toContain('int64 seconds = 1;');
  });

  it('describe grpc.health.v1.Health, and its map field (implicit StatusesEntry)', async () => {
    const out = ok(await grpcurl(server.address, 'describe', 'grpc.health.v1.Health'));
    expect(out).toMatch(/^grpc\.health\.v1\.Health is a service:/);
    expect(out).toContain('rpc Check ( .grpc.health.v1.HealthCheckRequest ) returns ( .grpc.health.v1.HealthCheckResponse );');
    expect(out).toContain('rpc Watch ( .grpc.health.v1.HealthCheckRequest ) returns ( stream .grpc.health.v1.HealthCheckResponse );');
    const list = ok(await grpcurl(server.address, 'describe', 'grpc.health.v1.HealthListResponse'));
    expect(list).toContain('map<string, .grpc.health.v1.HealthCheckResponse> statuses = 1;');
  });

  it('calls grpc.health.v1.Health/Check (server and one service)', async () => {
    expect(JSON.parse(ok(await grpcurl(server.address, 'grpc.health.v1.Health/Check')))).toEqual({ status: 'SERVING' });
    const one = await grpcurl('-d', JSON.stringify({ service: GATEWAY }), server.address, 'grpc.health.v1.Health/Check');
    expect(JSON.parse(ok(one))).toEqual({ status: 'SERVING' });
    const unknown = await grpcurl('-d', '{"service":"custody.ledger.v1.LedgerService"}', server.address, 'grpc.health.v1.Health/Check');
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/Code: NotFound/);
  });

  it("what it is served is buf's descriptors: every file equal to the compiler's, imports included", async () => {
    const buf = [platformDescriptorSetPath(), descriptorSetPath()].flatMap((path) => fromBinary(FileDescriptorSetSchema, readFileSync(path)).file);
    const client = new ReflectionV1Client(server.address, credentials.createInsecure());
    try {
      const served = await new Promise<Buffer[]>((resolve, reject) => {
        const call = (client as unknown as { ServerReflectionInfo(): ClientDuplexStream<object, { fileDescriptorResponse?: { fileDescriptorProto: Buffer[] } }> }).ServerReflectionInfo();
        call.on('data', (res) => {
          resolve(res.fileDescriptorResponse?.fileDescriptorProto ?? []);
          call.end();
        });
        call.on('error', reject);
        call.write({ fileContainingSymbol: GATEWAY });
      });
      const files = served.map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
      expect(files.map((f) => f.name).sort()).toEqual(['custody/intake/v1/custody_gateway.proto', 'google/protobuf/timestamp.proto']);
      for (const file of files) expect(equals(FileDescriptorProtoSchema, file, buf.find((b) => b.name === file.name)!)).toBe(true);
    } finally {
      client.close();
    }
  });

  it('calls a custody method, its response (with a Timestamp) decoded from reflected descriptors only', async () => {
    const body = JSON.parse(ok(await grpcurl(server.address, `${GATEWAY}/GetServiceStatus`)));
    expect(body).toEqual({
      assets: [{ asset: 'ETH', chain: 'ethereum', withdrawalsEnabled: true, depositsEnabled: true }],
      maintenance: [{ maintenanceId: 'mw-1', chains: ['bitcoin'], startsAt: '2030-01-02T03:04:05Z' }],
    });
  });
});
