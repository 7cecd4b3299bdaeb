// Types of kafka-principals.mjs for the TypeScript tests that import it.
import type { Admin } from 'kafkajs';

export interface Flow {
  produces?: string[];
  consumes?: string[];
  consumerGroups?: string[];
  readsDeadLetters?: boolean;
}
export interface Flows {
  services: Record<string, Flow>;
}
export type AclOperation = 'WRITE' | 'DESCRIBE' | 'READ';
export interface ServiceAcl {
  resourceType: 'topic' | 'group';
  name: string;
  operation: AclOperation;
}
export interface NameMaps {
  topic?: (name: string) => string;
  group?: (name: string) => string;
}
export interface KafkaInfra {
  brokers: string[];
  saslBrokers: string[];
  caFile: string;
}
export interface ServicePrincipal {
  user: string;
  passwordFile: string;
  acls: ServiceAcl[];
  created: number;
  deleted: number;
  credentialSet: boolean;
}

export const ROOT: string;
export const FLOWS_FILE: string;
export function principalName(svc: string, prefix?: string): string;
export function loadFlows(path?: string): Flows;
export function serviceAcls(flows: Flows, svc: string, maps?: NameMaps): ServiceAcl[];
export function describePrincipalAcls(
  admin: Admin,
  principal: string,
): Promise<Array<{ resourceType: string; name: string; operation: string; literal: boolean; allow: boolean; host: string }>>;
export function ensurePrincipalAcls(admin: Admin, principal: string, wanted: ServiceAcl[]): Promise<{ created: number; deleted: number }>;
export function saslClientConfig(opts: { saslBrokers: string[]; caFile: string; user: string; password: string; clientId?: string }): import('kafkajs').KafkaConfig;
export function authenticates(opts: { saslBrokers: string[]; caFile: string; user: string; password: string }): Promise<boolean>;
export function ensureScramUser(opts: { saslBrokers: string[]; caFile: string; user: string; passwordFile: string }): Promise<boolean>;
export function passwordFile(path: string): string;
export function kafkaInfra(env?: Record<string, string | undefined>): KafkaInfra;
export function ensureServicePrincipals(opts: {
  secretsDir: string;
  prefix?: string;
  flows?: Flows;
  topic?: (name: string) => string;
  group?: (name: string) => string;
  infra?: KafkaInfra;
}): Promise<Record<string, ServicePrincipal>>;
