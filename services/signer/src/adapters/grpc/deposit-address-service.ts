// DepositAddressService (custody.signer.v1) over the DeriveDepositAddress use case.
// Errors: domain codes -> gRPC status + `error-reason` trailer; anything else INTERNAL.
import { status } from '@grpc/grpc-js';
import { DeriveDepositAddressResponse, type DeriveDepositAddressRequest, type DepositAddressServiceServer } from '@custody/contracts';
import { isDomainError, unaryHandler, type GrpcCodeMap, type Logger } from '@custody/platform';
import type { DeriveDepositAddress } from '../../application/deposit-addresses.js';

export { DepositAddressServiceService } from '@custody/contracts';

export const SIGNER_ERROR_DOMAIN = 'custody.signer';

export const DEPOSIT_ADDRESS_ERROR_CODES: GrpcCodeMap = Object.freeze({
  CUSTOMER_ACCOUNT_REQUIRED: status.INVALID_ARGUMENT,
  CUSTOMER_ACCOUNT_MALFORMED: status.INVALID_ARGUMENT,
  ASSET_REQUIRED: status.INVALID_ARGUMENT,
  UNKNOWN_ASSET: status.INVALID_ARGUMENT,
  DEPOSIT_XPUB_INVALID: status.FAILED_PRECONDITION,
  DEPOSIT_INDEX_EXHAUSTED: status.RESOURCE_EXHAUSTED,
});

/**
 * Which client certificates may call is decided before this handler runs, by the platform's
 * GrpcServer `allowedCallers` (signer.module.ts): a refused caller gets PERMISSION_DENIED
 * CALLER_NOT_ALLOWED and nothing is derived.
 */
export function createDepositAddressService(deps: { readonly useCase: DeriveDepositAddress; readonly logger: Logger }): DepositAddressServiceServer {
  return {
    deriveDepositAddress: unaryHandler<DeriveDepositAddressRequest, DeriveDepositAddressResponse>(
      async (req) => {
        const result = await deps.useCase.derive({ customerAccount: req.customerAccount, asset: req.asset });
        return DeriveDepositAddressResponse.fromPartial({ address: result.address, derivationPath: result.derivationPath, chain: result.chain });
      },
      {
        codeMap: DEPOSIT_ADDRESS_ERROR_CODES,
        domain: SIGNER_ERROR_DOMAIN,
        onError: (err) => (isDomainError(err) ? deps.logger.info({ reason: err.code }, 'DeriveDepositAddress refused') : deps.logger.error({ err }, 'DeriveDepositAddress failed')),
      },
    ),
  };
}
