/**
 * The Kafka consumer groups this service joins. Its KafkaUser may Read exactly these groups:
 * helm/custody/files/flows.yaml (`consumerGroups`), checked against this constant by
 * scripts/helm/consumer-groups.spec.ts. Add a group here and there, never only in code.
 * `policy.decide.maintenance`: custody.maintenance.scheduled.v1 in a group of its own
 * (`<group>.maintenance`, adapters/kafka/maintenance-consumer.ts), so a decision waiting for
 * its ledger hold does not hold back the window that freezes it.
 * `policy.decide.treasury`: custody.tx.status.v1 / custody.tx.refused.v1 of treasury transfers
 * (ids "treasury:…"), which close or reopen them (adapters/kafka/treasury-consumer.ts).
 */
export const POLICY_CONSUMER_GROUPS = ['policy.decide', 'policy.decide.maintenance', 'policy.decide.treasury'] as const;
