// Thin Kafka consumers: decode the envelope and payload, validate, call the use case.
// Undecodable or invalid events go to the dead-letter topic (withDeadLetter), never
// silently dropped; the use case runs inside the inbox transaction (exactly-once effect).
import { NonRetryableError, protobufEnvelopeCodec, withDeadLetter, type BusMetrics, type EventBus, type Envelope, type Subscription } from '@custody/event-bus';
import { decodeEvent, Topics } from '@custody/contracts';
import { isDomainError } from '@custody/platform';
import { parseAmount } from '../../domain/amount.js';
import { screenTransfer, type ScreeningDeps, type TransferToScreen } from '../../application/screen-transfer.js';

export interface ConsumerOptions {
  readonly bus: EventBus;
  readonly groupId: string;
  readonly topics?: { readonly withdrawalRequested: string; readonly depositDetected: string };
  readonly onScreened?: (subjectId: string) => void;
  readonly maxAttempts?: number;
  readonly metrics?: BusMetrics;
}

export function transferFromEnvelope(envelope: Envelope): TransferToScreen {
  const meta = { correlationId: envelope.correlationId, causationId: envelope.id };
  if (envelope.type === Topics.withdrawalRequested) {
    const w = decodeEvent(Topics.withdrawalRequested, envelope.payload);
    if (!w.withdrawalId) throw new NonRetryableError('withdrawal_id is empty');
    return {
      kind: 'withdrawal',
      subjectId: w.withdrawalId,
      customerAccount: w.customerAccount,
      chain: w.chain,
      asset: w.asset,
      amount: parseAmount(w.amount),
      counterparties: [w.destinationAddress],
      travelRuleData: { originatorName: w.originatorName, originatorAccount: w.originatorAccount, beneficiaryName: w.beneficiaryName, beneficiaryAccount: w.beneficiaryAccount },
      eventId: envelope.id,
      meta,
    };
  }
  if (envelope.type === Topics.depositDetected) {
    const d = decodeEvent(Topics.depositDetected, envelope.payload);
    if (!d.depositId) throw new NonRetryableError('deposit_id is empty');
    return { kind: 'deposit', subjectId: d.depositId, customerAccount: d.customerAccount, chain: d.chain, asset: d.asset, amount: parseAmount(d.amount), counterparties: d.sourceAddresses, eventId: envelope.id, meta };
  }
  throw new NonRetryableError(`unexpected event type ${envelope.type}`);
}

export async function subscribeScreening(deps: ScreeningDeps, options: ConsumerOptions): Promise<Subscription> {
  const topics = options.topics ?? { withdrawalRequested: Topics.withdrawalRequested, depositDetected: Topics.depositDetected };
  return options.bus.subscribe({
    groupId: options.groupId,
    topics: [topics.withdrawalRequested, topics.depositDetected],
    handler: withDeadLetter({
      bus: options.bus,
      ...(options.metrics ? { metrics: options.metrics } : {}),
      maxAttempts: options.maxAttempts ?? 5,
      decode: (message) => protobufEnvelopeCodec.decode(message.value),
      handle: async (envelope) => {
        let transfer: TransferToScreen;
        try {
          transfer = transferFromEnvelope(envelope);
        } catch (e) {
          // Bad input is not retryable: dead-letter it with the precise reason.
          if (isDomainError(e)) throw new NonRetryableError(`${e.code}: ${e.publicMessage}`);
          if (e instanceof NonRetryableError) throw e;
          throw new NonRetryableError(`payload decode failed: ${(e as Error).message}`);
        }
        await screenTransfer(deps, transfer);
        options.onScreened?.(transfer.subjectId);
      },
    }),
  });
}
