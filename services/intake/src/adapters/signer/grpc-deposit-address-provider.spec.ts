// The deposit-address client's transport: plaintext only to loopback (fail closed), whatever
// the caller forgot to configure.
import { describe, expect, it } from '@jest/globals';
import { createLogger } from '@custody/platform';
import { GrpcDepositAddressProvider } from './grpc-deposit-address-provider.js';

const logger = createLogger({ service: 'intake-test', level: 'silent' });

describe('GrpcDepositAddressProvider without credentials', () => {
  it.each([['custody-signer.custody.svc:50051'], ['10.0.0.7:50051']])('refuses plaintext to %s (not loopback)', (address) => {
    expect(() => new GrpcDepositAddressProvider({ address, logger })).toThrow(/refusing plaintext/);
  });

  it('allows plaintext to a loopback signer (local tests, the embedded deployment)', () => {
    let provider: GrpcDepositAddressProvider | undefined;
    expect(() => (provider = new GrpcDepositAddressProvider({ address: '127.0.0.1:1', logger }))).not.toThrow();
    provider?.close();
  });
});
