import { randomBytes } from 'node:crypto';

/** A connection fact the integration globalSetup loads from .local/infra.env. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the integration globalSetup loads it from .local/infra.env (run npm run infra:up)`);
  return value;
}

/** 10 hex characters: unique database, role and topic names per test file. */
export const rand = (): string => randomBytes(5).toString('hex');
