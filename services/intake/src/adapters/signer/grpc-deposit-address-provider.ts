// DepositAddressProvider over the signer's DepositAddressService (custody.signer.v1), a
// grpc-js client. Fail closed: a timeout, an unreachable signer, any error status or an
// answer that does not fit the request (other chain, empty address) becomes UNAVAILABLE
// (DEPOSIT_ADDRESS_PROVIDER_UNAVAILABLE) and no address is returned.
//
// The signer keys an assignment by `customer_account`; intake sends
// "<client id>/<customer account>" so two integrators' equally named accounts never share
// an address.
import { Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { DepositAddressServiceClient, DeriveDepositAddressRequest, type DeriveDepositAddressResponse } from '@custody/contracts';
import { CORRELATION_ID_KEY, errorReason, grpcClientCredentials, type Logger } from '@custody/platform';
import { UnavailableError } from '../../domain/errors.js';
import type { DepositAddress, DepositAddressProvider } from '../../application/ports.js';

export interface GrpcDepositAddressProviderOptions {
  /** host:port of the signer's gRPC server. */
  readonly address: string;
  /**
   * mTLS in production (`grpcClientCredentials` of @custody/platform, from config.ts). Absent =
   * plaintext, which is refused (the constructor throws) unless `address` is a loopback address.
   */
  readonly credentials?: ChannelCredentials;
  /** Per-call deadline; default 3000 ms. */
  readonly timeoutMs?: number;
  readonly logger: Logger;
}

const unavailable = (): UnavailableError =>
  new UnavailableError('DEPOSIT_ADDRESS_PROVIDER_UNAVAILABLE', 'the signer did not derive a deposit address (unreachable, timed out or refused); no address was issued');

/** Signer-side account key of an integrator's customer. */
export function signerCustomerKey(clientId: string, customerAccount: string): string {
  return `${clientId}/${customerAccount}`;
}

export class GrpcDepositAddressProvider implements DepositAddressProvider {
  private readonly client: DepositAddressServiceClient;
  private readonly timeoutMs: number;

  constructor(private readonly options: GrpcDepositAddressProviderOptions) {
    this.client = new DepositAddressServiceClient(options.address, options.credentials ?? grpcClientCredentials({ address: options.address, tls: undefined }));
    this.timeoutMs = options.timeoutMs ?? 3_000;
  }

  async depositAddress(request: { readonly clientId: string; readonly customerAccount: string; readonly asset: string; readonly chain: string }): Promise<DepositAddress> {
    const message = DeriveDepositAddressRequest.fromPartial({ customerAccount: signerCustomerKey(request.clientId, request.customerAccount), asset: request.asset });
    const metadata = new Metadata();
    metadata.set(CORRELATION_ID_KEY, `deposit-${request.asset}`);
    const response = await new Promise<DeriveDepositAddressResponse>((resolve, reject) => {
      this.client.deriveDepositAddress(message, metadata, { deadline: new Date(Date.now() + this.timeoutMs) }, (err: ServiceError | null, res?: DeriveDepositAddressResponse) => {
        if (err || !res) {
          this.options.logger.warn({ code: err?.code, reason: err ? errorReason(err.metadata) : undefined, asset: request.asset }, 'signer DeriveDepositAddress failed');
          reject(unavailable());
          return;
        }
        resolve(res);
      });
    });
    if (response.address === '' || response.chain !== request.chain) {
      this.options.logger.warn({ asset: request.asset, chain: response.chain }, 'signer answered a deposit address that does not fit the request');
      throw unavailable();
    }
    return { asset: request.asset, chain: response.chain, address: response.address, destinationTag: '' };
  }

  close(): void {
    this.client.close();
  }
}
