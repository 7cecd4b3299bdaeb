import { describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { hex } from '@scure/base';
import { APPROVAL_DOMAIN, approvalSigningBytes, type ApprovalSubject, verifyEd25519Strict } from './approval.js';

const subject: ApprovalSubject = {
  decisionId: 'dec-1',
  withdrawalId: 'wd-1',
  asset: 'ETH',
  sourceWallet: 'w',
  destinationAddress: '0xab',
  destinationTag: '',
  amount: 10n,
  bundleDigest: '00'.repeat(32),
  quorum: 2,
  roles: ['treasury', 'compliance', 'treasury'],
  expiresAt: 1,
};

describe('approval signing bytes', () => {
  it('lays out domain, tagged length-prefixed fields, sorted distinct roles, in tag order', () => {
    const bytes = approvalSigningBytes(subject, 'op', 'treasury', 'approve');
    const text = (tag: number, s: string): string => tag.toString(16).padStart(2, '0') + s.length.toString(16).padStart(8, '0') + hex.encode(new TextEncoder().encode(s));
    const roles = '0a636f6d706c69616e6365' + '087472656173757279';
    const expected =
      hex.encode(new TextEncoder().encode(APPROVAL_DOMAIN)) + '00' +
      text(1, 'dec-1') + text(2, 'wd-1') + text(3, 'ETH') + text(4, 'w') + text(5, '0xab') + text(6, '') + text(7, '10') +
      '08' + '00000020' + '00'.repeat(32) + '09' + '00000004' + '00000002' + '0a' + (roles.length / 2).toString(16).padStart(8, '0') + roles +
      '0b' + '00000008' + '0000000000000001' + text(0x0c, 'op') + text(0x0d, 'treasury') + text(0x0e, 'approve');
    expect(hex.encode(bytes)).toBe(expected);
  });

  it('changes with every bound field and verifies only the signed bytes (strict Ed25519)', () => {
    const sk = Uint8Array.from({ length: 32 }, (_, i) => i);
    const pk = ed25519.getPublicKey(sk);
    const msg = approvalSigningBytes(subject, 'op', 'treasury', 'approve');
    const sig = ed25519.sign(msg, sk);
    expect(verifyEd25519Strict(sig, msg, pk)).toBe(true);
    for (const changed of [{ amount: 11n }, { destinationAddress: '0xac' }, { expiresAt: 2 }, { quorum: 3 }, { decisionId: 'dec-2' }]) {
      expect(verifyEd25519Strict(sig, approvalSigningBytes({ ...subject, ...changed }, 'op', 'treasury', 'approve'), pk)).toBe(false);
    }
    expect(verifyEd25519Strict(sig, approvalSigningBytes(subject, 'op', 'treasury', 'reject'), pk)).toBe(false);
    expect(verifyEd25519Strict(sig.subarray(1), msg, pk)).toBe(false);
  });
});
