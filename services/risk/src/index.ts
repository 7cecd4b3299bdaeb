// @custody/risk — the single entry point: startRisk() runs the service on any EventBus
// (Kafka in main.ts, the in-process bus in deploy/embedded).
export { wireRisk as startRisk, RISK_SERVICE, DEFAULT_GRPC_MAX_RECEIVE_BYTES, type StartRiskDeps, type RiskService, type RiskTopics } from './risk.module.js';
export { HttpAddressRiskProvider } from './adapters/provider/http-address-risk-provider.js';
export { mtlsOperator, trustedHeaderOperator, type OperatorAuthenticator } from './adapters/grpc/case-service.js';
export { SCREENING_LIST_SERVICE_NAME } from './adapters/grpc/list-service.js';
export { CUSTOMER_PROFILE_SERVICE_NAME } from './adapters/grpc/customer-profile-service.js';
export { parseRuleSet } from './domain/rules.js';
export { parseTravelRuleConfig } from './domain/travel-rule.js';
export { DEFAULT_RULE_SET, DEFAULT_TRAVEL_RULE } from './domain/default-rules.js';
export { RISK_CONSUMER_GROUPS } from './consumer-groups.js';
