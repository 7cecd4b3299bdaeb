/**
 * The Kafka consumer groups this service joins. Its KafkaUser may Read exactly these groups:
 * helm/custody/files/flows.yaml (`consumerGroups`), checked against this constant by
 * scripts/helm/consumer-groups.spec.ts. Add a group here and there, never only in code.
 *
 * The first is the withdrawal group (policy.decided, tx.signed; the module's default group id);
 * key.lifecycle has a group of its own, `<group>.wallets` (adapters/kafka/consumers.ts). A
 * Bitcoin profile adds `<group>.bitcoin` and `<group>.bitcoin.wallets` (bitcoin.module.ts).
 */
export const CHAIN_ADAPTER_CONSUMER_GROUPS = ['chain-adapter', 'chain-adapter.wallets', 'chain-adapter.bitcoin', 'chain-adapter.bitcoin.wallets'] as const;
