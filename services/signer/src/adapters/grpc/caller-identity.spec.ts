import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { callerAllowed, parseCallerRules } from './caller-identity.js';

const raw = Buffer.from('not really DER, only hashed');
const pin = createHash('sha256').update(raw).digest('hex');
const peer = { raw, subject: { CN: 'intake' }, subjectaltname: 'DNS:Intake.custody.svc, URI:spiffe://custody/sa/intake, IP Address:10.0.0.1' };

describe('signer caller allow-list rules', () => {
  it('parses the four kinds and refuses anything else', () => {
    expect(parseCallerRules([`sha256:${pin.toUpperCase()}`, 'dns:A.b', 'uri:spiffe://x/y', 'cn:intake'])).toEqual([
      { kind: 'sha256', value: pin },
      { kind: 'dns', value: 'a.b' },
      { kind: 'uri', value: 'spiffe://x/y' },
      { kind: 'cn', value: 'intake' },
    ]);
    for (const bad of ['intake', 'sha256:abc', 'ip:10.0.0.1', 'cn:']) expect(() => parseCallerRules([bad])).toThrow(TypeError);
  });

  it('matches pin, SAN DNS (case-insensitive), SAN URI and CN; nothing matches without a certificate', () => {
    for (const rule of [`sha256:${pin}`, 'dns:intake.custody.svc', 'uri:spiffe://custody/sa/intake', 'cn:intake']) expect(callerAllowed(parseCallerRules([rule]), peer)).toBe(true);
    for (const rule of [`sha256:${'0'.repeat(64)}`, 'dns:ledger.custody.svc', 'uri:spiffe://custody/sa/ledger', 'cn:ledger', 'cn:Intake']) expect(callerAllowed(parseCallerRules([rule]), peer)).toBe(false);
    expect(callerAllowed(parseCallerRules(['cn:intake']), undefined)).toBe(false);
    expect(callerAllowed(parseCallerRules(['cn:intake']), { subject: { CN: 'intake' } })).toBe(false);
  });
});
