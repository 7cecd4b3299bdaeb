// @custody/platform: the service runtime layer (config, logging, metrics, gRPC, database).
// Curated entry point: add an export here deliberately; no wildcard re-exports.

// config
export { defineConfig, describeConfigIssues, isSecretVariable, ConfigError, SECRET_VARIABLE } from './config.js';
export type { ConfigProblem, DeepReadonly } from './config.js';
export { envVar, parseDuration } from './config-fields.js';
export { grpcServerTlsEnv, grpcServerCredentials, type GrpcServerTlsEnv } from './grpc-tls-env.js';
export { grpcClientTlsEnv, grpcClientSettings, grpcClientCredentials, isLoopbackAddress, grpcAddressHost, type GrpcClientEnvNames, type GrpcClientSettings } from './grpc-client-tls.js';

// logging
export { createLogger, LOG_LEVELS } from './logger.js';
export type { CreateLoggerOptions, Logger, LogLevel } from './logger.js';
export { withCorrelation, currentCorrelation } from './correlation.js';
export type { CorrelationContext } from './correlation.js';
export { REDACTED, isSecretKey, redactDeep, scrubString } from './redact.js';

// metrics
export { createMetrics, createCounter, createGauge, createHistogram, OTHER_LABEL_VALUE } from './metrics.js';
export type { BoundedCounter, BoundedGauge, BoundedHistogram, HistogramSpec, LabelSpec, LabelValuesOf, MetricSpec } from './metrics.js';
export { startMetricsServer } from './metrics-server.js';
export { createBusMetrics } from './bus-metrics.js';
export type { BusMetricsOptions } from './bus-metrics.js';
export type { HealthCheck, MetricsServer, MetricsServerOptions } from './metrics-server.js';

// errors and gRPC
export { DomainError, isDomainError } from './domain-error.js';
export type { DomainErrorOptions } from './domain-error.js';
export {
  toGrpcError,
  errorReason,
  unaryHandler,
  ERROR_REASON_KEY,
  ERROR_DOMAIN_KEY,
  INTERNAL_REASON,
  INTERNAL_MESSAGE,
  CORRELATION_ID_KEY,
  CAUSATION_ID_KEY,
  TRACEPARENT_KEY,
} from './grpc-errors.js';
export type { GrpcCodeMap, GrpcStatusError, ToGrpcErrorOptions, UnaryHandlerOptions } from './grpc-errors.js';
export { GrpcServer, serviceNameOf, HEALTH_SERVICE_NAME, REFLECTION_SERVICE_NAMES } from './grpc-server.js';
export type { GrpcServerCredentials, GrpcServerOptions, GrpcServiceRegistration, ShutdownOutcome } from './grpc-server.js';
export { GrpcServerModule, GrpcServerLifecycle, GRPC_SERVER_OPTIONS } from './grpc-server.module.js';
export type { GrpcServerModuleAsyncOptions } from './grpc-server.module.js';
export { DEFAULT_LISTEN_HOST, assertListenHost } from './listen-address.js';
export {
  callerAllowListInterceptor,
  callerAllowListVar,
  grpcAllowedCallersEnv,
  parseCallerRules,
  callerAllowed,
  assertCallerAllowed,
  describePeer,
  warnIfCallersUnrestricted,
  logCallerDenied,
  CallerNotAllowedError,
  CALLER_NOT_ALLOWED,
  NO_CALLERS,
} from './grpc-caller-identity.js';
export type { CallerRule, CallerAllowListOptions, PeerCertificate } from './grpc-caller-identity.js';

// operator-action audit gate (record in audit before an admin action is applied; fail closed)
export {
  createOperatorAuditGate,
  recordOperatorAction,
  refusingOperatorAuditGate,
  operatorRequestDigest,
  operatorAuditEnv,
  operatorAuditSettings,
  operatorAuditGateFor,
  AuditUnavailableError,
} from './operator-audit-gate.js';
export type { OperatorActionRecord, OperatorAuditGate, OperatorAuditGateOptions, OperatorAuditReceipt, OperatorAuditEnvNames, OperatorAuditSettings } from './operator-audit-gate.js';

// database
export {
  createServiceDataSource,
  runMigrations,
  assertMigrationsMatchEntities,
  SchemaDriftError,
  serviceIdentifier,
} from './database.js';
export type { DatabaseConnection, ServiceDataSourceOptions } from './database.js';
export { provisionServiceDatabase, serviceRoleNames } from './database-provision.js';
export type { ProvisionServiceOptions, ServiceDatabaseRoles } from './database-provision.js';
