// DepositAddressService (custody.signer.v1) over the DeriveDepositAddress use case.
// Errors: domain codes -> gRPC status + `error-reason` trailer; anything else INTERNAL.
import { status } from '@grpc/grpc-js';
import { DeriveDepositAddressResponse, type DeriveDepositAddressRequest, type DepositAddressServiceServer } from '@custody/contracts';
import { isDomainError, unaryHandler, type GrpcCodeMap, type Logger } from '@custody/platform';
import type { DeriveDepositAddress } from '../../application/deposit-addresses.js';
import { assertCallerAllowed, type CallerRule } from './caller-identity.js';

export { DepositAddressServiceService } from '@custody/contracts';

export const SIGNER_ERROR_DOMAIN = 'custody.signer';

export const DEPOSIT_ADDRESS_ERROR_CODES: GrpcCodeMap = Object.freeze({
  CUSTOMER_ACCOUNT_REQUIRED: status.INVALID_ARGUMENT,
  CUSTOMER_ACCOUNT_MALFORMED: status.INVALID_ARGUMENT,
  ASSET_REQUIRED: status.INVALID_ARGUMENT,
  UNKNOWN_ASSET: status.INVALID_ARGUMENT,
  DEPOSIT_XPUB_INVALID: status.FAILED_PRECONDITION,
  DEPOSIT_INDEX_EXHAUSTED: status.RESOURCE_EXHAUSTED,
  CALLER_NOT_ALLOWED: status.PERMISSION_DENIED,
});

/**
 * @param allowedCallers which client certificates may call (signer config); undefined only
 *   on an insecure local server. Given, a call without a matching verified certificate is
 *   PERMISSION_DENIED before anything is derived.
 */
export function createDepositAddressService(deps: { readonly useCase: DeriveDepositAddress; readonly logger: Logger; readonly allowedCallers?: readonly CallerRule[] }): DepositAddressServiceServer {
  return {
    deriveDepositAddress: unaryHandler<DeriveDepositAddressRequest, DeriveDepositAddressResponse>(
      async (req, call) => {
        if (deps.allowedCallers !== undefined) assertCallerAllowed(deps.allowedCallers, call);
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
