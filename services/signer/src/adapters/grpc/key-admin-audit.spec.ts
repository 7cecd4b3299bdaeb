// KeyAdminService's operator audit gate, with a fake KeyLifecycle and a fake gate: every
// state-changing RPC is recorded BEFORE the lifecycle runs; a gate that does not record it →
// UNAVAILABLE / AUDIT_UNAVAILABLE and the lifecycle is never called; reads are not recorded;
// no approvals → refused before audit; a restore's digest never covers the opened shares.
// (The real audit service: the root-level test/integration/admin-audit-gate.test.ts.)
import { describe, expect, it } from '@jest/globals';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import type { KeyAdminServiceServer } from '@custody/contracts';
import { createLogger, errorReason, type OperatorActionRecord, type OperatorAuditGate } from '@custody/platform';
import type { KeyLifecycle } from '../../application/key-lifecycle.js';
import type { KeyRecord } from '../../domain/key.js';
import { SignerError } from '../../domain/errors.js';
import { createKeyAdminService, peerIp } from './key-admin-service.js';

const key: KeyRecord = {
  keyId: 'key-1',
  walletId: 'w-1',
  chain: 'ethereum-mainnet',
  algorithm: 'secp256k1',
  purpose: 'signature',
  tier: 'hot',
  custody: 'local-sealed',
  custodyRef: 'ref',
  publicKey: new Uint8Array(33).fill(2),
  address: '0x00',
  state: 'active',
  activeUntil: undefined,
  signaturesLeft: undefined,
  updatedAt: new Date(),
};
const manifest = { backupId: 'b-1', threshold: 2, total: 3, custodians: ['c1', 'c2', 'c3'], fingerprint: 'ab'.repeat(32) };

function world(gateRecords: boolean, walletTaken = false) {
  const log: string[] = [];
  const recorded: OperatorActionRecord[] = [];
  const lifecycle = {
    listKeys: () => (log.push('lifecycle:listKeys'), Promise.resolve([key])),
    getKey: () => (log.push('lifecycle:getKey'), Promise.resolve(key)),
    generate: () => (log.push('lifecycle:generate'), Promise.resolve(key)),
    assertCanGenerate: (r: { walletId: string }) =>
      walletTaken ? Promise.reject(new SignerError('KEY_EXISTS_FOR_WALLET', `wallet ${r.walletId} already has key key-1 (one key per wallet: rotation is a new wallet and a sweep)`)) : Promise.resolve(),
    transition: (r: { transition: string }) => (log.push(`lifecycle:${r.transition}`), Promise.resolve(key)),
    createBackupShares: () => (log.push('lifecycle:backup'), Promise.resolve({ key, manifest, shares: [] })),
    restoreFromShares: () => (log.push('lifecycle:restore'), Promise.resolve(key)),
  } as unknown as KeyLifecycle;
  const gate: OperatorAuditGate = {
    record: (a) => {
      log.push(`audit:${a.action}`);
      recorded.push(a);
      return gateRecords ? Promise.resolve({ sequence: 1n, recordHash: new Uint8Array(32) }) : Promise.reject(new Error('audit down'));
    },
  };
  const service = createKeyAdminService({ lifecycle, logger: createLogger({ service: 'key-admin-audit-spec', level: 'fatal' }), audit: gate });
  return { log, recorded, service };
}

type Handler = (call: unknown, cb: (err: ServiceError | null, res?: unknown) => void) => void;
function invoke(service: KeyAdminServiceServer, rpc: keyof KeyAdminServiceServer, request: unknown, correlationId = 'corr-1'): Promise<{ code: number; reason: string | undefined } | 'ok'> {
  const metadata = new Metadata();
  metadata.set('x-correlation-id', correlationId);
  const call = { request, metadata, getPeer: () => 'ipv4:10.9.8.7:55123' };
  return new Promise((resolve) => (service[rpc] as unknown as Handler)(call, (err) => resolve(err ? { code: err.code, reason: errorReason(err.metadata) } : 'ok')));
}

const approvals = [
  { operatorId: 'carol', role: 'key_custodian', keyId: 'carol-k1', signature: Buffer.alloc(64, 1) },
  { operatorId: 'dave', role: 'key_custodian', keyId: 'dave-k1', signature: Buffer.alloc(64, 2) },
];
const admin = (extra: object = {}) => ({ request: { requestId: 'req-1', keyId: 'key-1', expiresAt: '4102444800', approvals, reason: 'r', ...extra } });
const SHARE = Buffer.alloc(40, 0x5a);
const CALLS: [keyof KeyAdminServiceServer, string, () => object][] = [
  ['generateKey', 'signer.key.generate', () => ({ ...admin(), walletId: 'w-1', chain: 'ethereum-mainnet', algorithm: 'secp256k1', tier: 'hot', custody: 'local-sealed' })],
  ['activateKey', 'signer.key.activate', () => ({ ...admin(), ttlSeconds: 3600, maxSignatures: 0 })],
  ['deactivateKey', 'signer.key.deactivate', () => admin()],
  ['suspendKey', 'signer.key.suspend', () => admin()],
  ['resumeKey', 'signer.key.resume', () => admin()],
  ['retireKey', 'signer.key.retire', () => admin()],
  ['destroyKey', 'signer.key.destroy', () => admin()],
  ['createBackupShares', 'signer.key.backup', () => ({ ...admin(), threshold: 2, custodians: ['c1', 'c2', 'c3'].map((c) => ({ custodianId: c, publicKey: Buffer.alloc(32, 3) })) })],
  ['restoreFromShares', 'signer.key.restore', () => ({ ...admin(), manifest: { ...manifest, keyId: 'key-1' }, shares: [1, 2].map((index) => ({ custodianId: `c${index}`, index, share: Buffer.from(SHARE) })) })],
];

describe('KeyAdminService records every key admin change in audit before the lifecycle runs (fail closed)', () => {
  it.each(CALLS)('%s → audit %s, then the lifecycle; actor = first approver, approvers as approval ids', async (rpc, action, request) => {
    const w = world(true);
    expect(await invoke(w.service, rpc, request(), 'corr-42')).toBe('ok');
    expect(w.log).toHaveLength(2);
    expect(w.log[0]).toBe(`audit:${action}`);
    expect(w.log[1]).toMatch(/^lifecycle:/);
    expect(w.recorded[0]).toMatchObject({ operatorId: 'carol', action, target: 'key-1', deviceId: 'key:carol-k1', sourceIp: '10.9.8.7', requestId: 'req-1', approvalIds: ['carol', 'dave'], correlationId: 'corr-42' });
    expect(w.recorded[0]?.requestDigest).toHaveLength(32);
  });

  it.each(CALLS)('%s with audit refusing → UNAVAILABLE / AUDIT_UNAVAILABLE, the lifecycle never runs', async (rpc, action, request) => {
    const w = world(false);
    expect(await invoke(w.service, rpc, request())).toEqual({ code: status.UNAVAILABLE, reason: 'AUDIT_UNAVAILABLE' });
    expect(w.log).toEqual([`audit:${action}`]);
  });

  it('reads are not recorded; bad input and missing approvals are refused before audit', async () => {
    const w = world(true);
    expect(await invoke(w.service, 'listKeys', { walletId: '', chain: '' })).toBe('ok');
    expect(await invoke(w.service, 'getKey', { keyId: 'key-1' })).toBe('ok');
    expect(await invoke(w.service, 'suspendKey', { request: { ...admin().request, keyId: 'bad key' } })).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(await invoke(w.service, 'suspendKey', { request: { ...admin().request, approvals: [] } })).toEqual({ code: status.FAILED_PRECONDITION, reason: 'QUORUM_NOT_MET' });
    expect(w.log).toEqual(['lifecycle:listKeys', 'lifecycle:getKey']);
  });

  it('generateKey for a wallet that has a key → ALREADY_EXISTS / KEY_EXISTS_FOR_WALLET naming the wallet, before audit and the lifecycle', async () => {
    const w = world(true, true);
    const request = CALLS.find((c) => c[0] === 'generateKey')![2];
    const call = { request: request(), metadata: new Metadata(), getPeer: () => 'ipv4:10.9.8.7:55123' };
    const err = await new Promise<ServiceError | null>((resolve) => (w.service.generateKey as unknown as Handler)(call, (e) => resolve(e)));
    expect({ code: err?.code, reason: errorReason(err?.metadata ?? new Metadata()) }).toEqual({ code: status.ALREADY_EXISTS, reason: 'KEY_EXISTS_FOR_WALLET' });
    expect(err?.details).toContain('w-1');
    expect(err?.details).not.toContain('ref');
    expect(w.log).toEqual([]);
  });

  it('the digest binds the signatures and the call facts but not the opened shares', async () => {
    const digests: string[] = [];
    for (const variant of [admin(), admin({ reason: 'other' }), { request: { ...admin().request, approvals: [approvals[0], { ...approvals[1], signature: Buffer.alloc(64, 7) }] } }]) {
      const w = world(true);
      await invoke(w.service, 'suspendKey', variant);
      digests.push(Buffer.from(w.recorded[0]?.requestDigest ?? []).toString('hex'));
    }
    expect(new Set(digests).size).toBe(3);
    const restore = CALLS.find((c) => c[0] === 'restoreFromShares')![2];
    const a = world(true);
    const b = world(true);
    const other = restore() as { shares: { share: Buffer }[] };
    for (const s of other.shares) s.share.fill(0x11);
    await invoke(a.service, 'restoreFromShares', restore());
    await invoke(b.service, 'restoreFromShares', other);
    expect(Buffer.from(a.recorded[0]?.requestDigest ?? [])).toEqual(Buffer.from(b.recorded[0]?.requestDigest ?? []));
  });

  it('peerIp: IPv4, IPv6 and non-IP peers', () => {
    expect(peerIp('ipv4:127.0.0.1:5000')).toBe('127.0.0.1');
    expect(peerIp('[::1]:5000')).toBe('::1');
    expect(peerIp('unix:/tmp/sock')).toBe('0.0.0.0');
  });
});
