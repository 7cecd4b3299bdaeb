// Signer benchmarks (printed, never asserted): signatures per second per algorithm and
// key custody, beside raw @noble/curves on this machine.
//   raw @noble        secp256k1.sign(prehash: false) / ed25519.sign with a key in memory
//   kernel            the signer's crypto kernel (RFC 6979 low-S + recovery id)
//   local-sealed      AES-256-GCM unseal → sign → zero, per signature
//   pkcs11            SoftHSM2 over pkcs11js (CKM_ECDSA + normaliseLowS + computeRecoveryId / CKM_EDDSA + local verify)
//   vault             OpenBao 2.7.2 dev server: transit/decrypt + local sign (secp256k1), transit/sign (Ed25519)
//   use case          SignTransaction end to end (token + 2 approvals + strict EVM decode + sign), in-memory store
// Run: bash scripts/bench.sh signer   (needs scripts/infra/up.sh for SoftHSM2; OpenBao at BAO_BIN or .local/bin/bao)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { KeyCustody } from '../services/signer/src/application/key-custody.js';
import { InMemorySealedBlobStore, LocalSealedKeyCustody } from '../services/signer/src/adapters/custody/local-sealed.js';
import { Pkcs11KeyCustody } from '../services/signer/src/adapters/custody/pkcs11.js';
import { VaultKeyCustody } from '../services/signer/src/adapters/custody/vault.js';
import { signDigest } from '../services/signer/src/domain/crypto/secp256k1.js';
import { ed25519Sign } from '../services/signer/src/domain/crypto/ed25519.js';
import { KeyLifecycle, generationRequest } from '../services/signer/src/application/key-lifecycle.js';
import { SignTransaction } from '../services/signer/src/application/sign-transaction.js';
import { ETH, MemoryStores, assets, operators, ops, prepared, scenario, signTransition, trustedPolicyKeys } from '../services/signer/test/fixtures.js';

const SECONDS = Number(process.env['SIGNER_BENCH_SECONDS'] ?? 1.5);
const rows: Array<[string, string, number, number]> = [];

async function measure(label: string, algorithm: string, op: (i: number) => unknown): Promise<void> {
  for (let i = 0; i < 5; i++) await op(i); // warm-up
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  let n = 0;
  while (performance.now() < deadline && n < 1_000_000) await op(n++);
  const elapsed = (performance.now() - started) / 1000;
  rows.push([label, algorithm, n / elapsed, (elapsed / n) * 1e6]);
  console.log(`${label.padEnd(30)} ${algorithm.padEnd(10)} ${(n / elapsed).toFixed(0).padStart(8)} sig/s  ${((elapsed / n) * 1e6).toFixed(0).padStart(8)} µs/sig  (n=${n})`);
}

async function custodyRows(label: string, custody: KeyCustody): Promise<void> {
  const k = await custody.generateKey('secp256k1', 'bench secp');
  const e = await custody.generateKey('ed25519', 'bench ed');
  const digests = Array.from({ length: 64 }, (_, i) => sha256(Uint8Array.of(i)));
  const message = randomBytes(200);
  await measure(label, 'secp256k1', (i) => custody.sign(k.ref, { algorithm: 'secp256k1', digest: digests[i % 64] as Uint8Array }));
  await measure(label, 'ed25519', () => custody.sign(e.ref, { algorithm: 'ed25519', message }));
  await custody.destroyKey(k.ref).catch(() => undefined);
  await custody.destroyKey(e.ref).catch(() => undefined);
}

async function startBao(): Promise<{ address: string; token: string; stop(): void } | undefined> {
  const bin = process.env['BAO_BIN'] ?? `${process.cwd()}/.local/bin/bao`;
  if (!existsSync(bin)) return undefined;
  const port = 20000 + (randomBytes(2).readUInt16BE(0) % 20000);
  const token = `root-${randomBytes(8).toString('hex')}`;
  const child = spawn(bin, ['server', '-dev', `-dev-listen-address=127.0.0.1:${port}`, `-dev-root-token-id=${token}`], { stdio: 'ignore' });
  const address = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`${address}/v1/sys/health`).catch(() => undefined))?.ok) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await fetch(`${address}/v1/sys/mounts/transit`, { method: 'POST', headers: { 'X-Vault-Token': token }, body: JSON.stringify({ type: 'transit' }) });
  return { address, token, stop: () => child.kill('SIGTERM') };
}

async function main(): Promise<void> {
  console.log(`signer bench: ${SECONDS}s per row, node ${process.version}`);
  const sk = secp256k1.utils.randomSecretKey();
  const ek = ed25519.utils.randomSecretKey();
  const digests = Array.from({ length: 64 }, (_, i) => sha256(Uint8Array.of(i)));
  const message = randomBytes(200);
  await measure('raw @noble/curves', 'secp256k1', (i) => secp256k1.sign(digests[i % 64] as Uint8Array, sk, { prehash: false }));
  await measure('raw @noble/curves', 'ed25519', () => ed25519.sign(message, ek));
  await measure('kernel (low-S + recovery id)', 'secp256k1', (i) => signDigest(digests[i % 64] as Uint8Array, sk));
  await measure('kernel', 'ed25519', () => ed25519Sign(message, ek));

  await custodyRows('local-sealed (AES-256-GCM)', new LocalSealedKeyCustody({ masterKey: randomBytes(32), kekId: 'bench', store: new InMemorySealedBlobStore() }));

  const module = process.env['PKCS11_MODULE'];
  if (module && process.env['PKCS11_TOKEN_LABEL'] && process.env['PKCS11_PIN']) {
    const hsm = await Pkcs11KeyCustody.open({ modulePath: module, tokenLabel: process.env['PKCS11_TOKEN_LABEL'], pin: process.env['PKCS11_PIN'] });
    await custodyRows('pkcs11 (SoftHSM2)', hsm);
    await hsm.close();
  } else console.log('pkcs11: PKCS11_* not set, skipped');

  const bao = await startBao();
  if (bao) {
    try {
      await custodyRows('vault (OpenBao transit, HTTP)', await VaultKeyCustody.open({ address: bao.address, token: bao.token, store: new InMemorySealedBlobStore() }));
    } finally {
      bao.stop();
    }
  } else console.log('vault: no bao binary, skipped');

  // The whole use case, local sealed custody, in-memory store (no Postgres/Kafka): the
  // verification cost around one signature.
  const clock = { now: () => new Date() };
  const stores = new MemoryStores();
  const local = new LocalSealedKeyCustody({ masterKey: randomBytes(32), kekId: 'bench', store: new InMemorySealedBlobStore() });
  const custody = new Map([[local.kind, local]]);
  const lifecycle = new KeyLifecycle({ store: stores, custody, clock, operators, adminRoles: ['key_custodian'] });
  const walletId = 'bench-wallet';
  const expiresAt = Math.floor(Date.now() / 1000) + 600;
  const gen = { requestId: randomUUID(), keyId: 'bench-key', walletId, chain: ETH.chain, algorithm: 'secp256k1' as const, tier: 'hot' as const, custody: 'local-sealed' as const, expiresAt };
  await lifecycle.generate(gen, [signTransition(generationRequest(gen), ops.carol), signTransition(generationRequest(gen), ops.dave)]);
  const act = { requestId: randomUUID(), keyId: 'bench-key', transition: 'activate' as const, ttlSeconds: 3600, expiresAt };
  await lifecycle.transition(act, [signTransition(act, ops.carol), signTransition(act, ops.dave)], 'bench');
  const useCase = new SignTransaction({ store: stores, custody, clock, trustedPolicyKeys, operators, assets });
  const requests = Array.from({ length: 20_000 }, () => prepared(scenario(walletId, new Date())));
  let next = 0; // each request once (a decision id is single-use)
  await measure('SignTransaction (use case)', 'secp256k1', async () => {
    const i = next++;
    if (i >= requests.length) throw new Error('bench ran out of prepared requests: raise their number');
    const r = await useCase.handle(requests[i] as never, { eventId: randomUUID(), correlationId: 'bench' });
    if (r !== 'signed') throw new Error(`bench request ${i} was ${r}`);
  });
  console.log(`\n${rows.length} rows`);
}

await main();
