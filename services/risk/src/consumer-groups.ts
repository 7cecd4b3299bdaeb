/**
 * The Kafka consumer groups this service joins. Its KafkaUser may Read exactly these groups:
 * helm/custody/files/flows.yaml (`consumerGroups`), checked against this constant by
 * scripts/helm/consumer-groups.spec.ts. Add a group here and there, never only in code.
 */
export const RISK_CONSUMER_GROUPS = ['risk-screening'] as const;
