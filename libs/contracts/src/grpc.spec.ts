import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import {
  CustodyGatewayServiceClient,
  CustodyGatewayServiceService,
  type CustodyGatewayServiceServer,
  GrpcServiceNames,
  SubmitWithdrawalRequest,
  Withdrawal,
  WithdrawalState,
  loadPackageDefinition,
  type WatchWithdrawalsResponse,
} from './index.js';

function unimplemented(callback: grpc.sendUnaryData<never>): void {
  callback({ code: grpc.status.UNIMPLEMENTED, details: 'not in this test' });
}

const gateway: CustodyGatewayServiceServer = {
  submitWithdrawal: (call, callback) => {
    const r = call.request;
    callback(null, {
      withdrawal: Withdrawal.fromPartial({
        withdrawalId: `wd-${r.idempotencyKey}`,
        customerAccount: r.customerAccount,
        asset: r.asset,
        amount: r.amount,
        destinationAddress: r.destinationAddress,
        state: WithdrawalState.WITHDRAWAL_STATE_REQUESTED,
      }),
    });
  },
  watchWithdrawals: (call) => {
    for (const id of call.request.withdrawalIds) {
      call.write({ withdrawal: Withdrawal.fromPartial({ withdrawalId: id, state: WithdrawalState.WITHDRAWAL_STATE_COMPLETED }) });
    }
    call.end();
  },
  getWithdrawal: (_call, callback) => unimplemented(callback),
  listWithdrawals: (_call, callback) => unimplemented(callback),
  cancelWithdrawal: (_call, callback) => unimplemented(callback),
  getDepositAddress: (_call, callback) => unimplemented(callback),
  getServiceStatus: (_call, callback) => unimplemented(callback),
};

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

describe('gRPC contracts', () => {
  let server: grpc.Server;
  let address: string;

  beforeAll(async () => {
    server = new grpc.Server();
    server.addService(CustodyGatewayServiceService, gateway);
    new ReflectionService(loadPackageDefinition()).addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    address = `127.0.0.1:${port}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  it('package definition covers every custody service with file descriptors', () => {
    const pkg = loadPackageDefinition();
    for (const name of Object.values(GrpcServiceNames)) {
      expect(pkg[name]).toBeDefined();
    }
    expect(pkg['custody.events.v1.EventEnvelope']).toBeDefined();
    expect(pkg['google.protobuf.Timestamp']).toBeDefined();
  });

  it('serves the generated service: unary and server-streaming calls round-trip', async () => {
    const client = new CustodyGatewayServiceClient(address, grpc.credentials.createInsecure());
    try {
      const request = SubmitWithdrawalRequest.fromPartial({
        idempotencyKey: 'k1',
        customerAccount: 'cust-1',
        asset: 'ETH',
        amount: '340282366920938463463374607431768211456',
        destinationAddress: '0xabc',
      });
      const response = await new Promise<Withdrawal | undefined>((resolve, reject) =>
        client.submitWithdrawal(request, (err, res) => (err ? reject(err) : resolve(res.withdrawal))),
      );
      expect(response).toMatchObject({ withdrawalId: 'wd-k1', amount: '340282366920938463463374607431768211456', state: WithdrawalState.WITHDRAWAL_STATE_REQUESTED });

      const updates: WatchWithdrawalsResponse[] = [];
      await new Promise<void>((resolve, reject) => {
        const stream = client.watchWithdrawals({ customerAccount: '', withdrawalIds: ['a', 'b'] });
        stream.on('data', (update: WatchWithdrawalsResponse) => updates.push(update));
        stream.on('error', reject);
        stream.on('end', resolve);
      });
      expect(updates.map((u) => u.withdrawal?.withdrawalId)).toEqual(['a', 'b']);
    } finally {
      client.close();
    }
  });

  it('server reflection lists the services and returns descriptors with proto field names', async () => {
    const reflectionProto = fileURLToPath(import.meta.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto'));
    const definition = protoLoader.loadSync(reflectionProto, { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true });
    const Reflection = grpc.makeClientConstructor(definition['grpc.reflection.v1.ServerReflection'] as grpc.ServiceDefinition, 'ServerReflection');
    const client = new Reflection(address, grpc.credentials.createInsecure());
    try {
      const ask = (request: object) =>
        new Promise<ReflectionResponse>((resolve, reject) => {
          const call = (client as unknown as Record<string, () => grpc.ClientDuplexStream<object, ReflectionResponse>>)['ServerReflectionInfo']!.call(client);
          call.on('data', (res: ReflectionResponse) => {
            resolve(res);
            call.end();
          });
          call.on('error', reject);
          call.write(request);
        });

      const listed = await ask({ list_services: '' });
      const names = listed.list_services_response?.service.map((s) => s.name) ?? [];
      expect(names).toEqual(expect.arrayContaining([GrpcServiceNames.custodyGateway, GrpcServiceNames.approval, GrpcServiceNames.ledger, GrpcServiceNames.auditQuery]));

      const files = await ask({ file_containing_symbol: 'custody.intake.v1.SubmitWithdrawalRequest' });
      const protos = (files.file_descriptor_response?.file_descriptor_proto ?? []).map((bytes) => fromBinary(FileDescriptorProtoSchema, bytes));
      const gatewayFile = protos.find((f) => f.name === 'custody/intake/v1/custody_gateway.proto');
      expect(gatewayFile?.package).toBe('custody.intake.v1');
      const submit = gatewayFile?.messageType.find((m) => m.name === 'SubmitWithdrawalRequest');
      // The proto's own snake_case names (what grpcurl shows), not protobufjs camelCase.
      expect(submit?.field.map((f) => f.name)).toContain('idempotency_key');
    } finally {
      client.close();
    }
  });
});
