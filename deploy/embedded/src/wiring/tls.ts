// Throw-away mTLS material of the embedded default, made in memory at each start and never
// written anywhere: a private CA (ECDSA P-256), a server certificate for the signer's
// DepositAddressService (SAN IP:127.0.0.1) and a client certificate for intake. The CA's
// private key is dropped once the two leaves are signed. Plain DER built here over
// node:crypto (no openssl binary, no dependency); node's X509Certificate checks the result.
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate, type KeyObject } from 'node:crypto';

const OID = {
  commonName: '2.5.4.3',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  if (n < 0x100) return Buffer.from([0x81, n]);
  if (n < 0x10000) return Buffer.from([0x82, n >> 8, n & 0xff]);
  throw new RangeError('DER value too long');
}
const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const seq = (...parts: Buffer[]) => tlv(0x30, ...parts);
const set = (...parts: Buffer[]) => tlv(0x31, ...parts);
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.from([unused]), b);
const TRUE = tlv(0x01, Buffer.from([0xff]));
function integer(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return tlv(0x02, (v[0] ?? 0) & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}
function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}
/** UTCTime (YYMMDDHHMMSSZ), valid for 1950-2049. */
function utcTime(d: Date): Buffer {
  const iso = d.toISOString(); // 2026-11-24T13:01:02.345Z
  return tlv(0x17, Buffer.from(`${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`, 'ascii'));
}
const name = (cn: string) => seq(set(seq(oid(OID.commonName), tlv(0x0c, Buffer.from(cn, 'utf8')))));
const extension = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [TRUE] : []), octets(value));

export interface CertificateSpec {
  readonly commonName: string;
  readonly ca?: boolean;
  /** Extended key usage of a leaf. */
  readonly usage?: 'server' | 'client';
  /** SAN entries: IPv4 addresses and DNS names. */
  readonly ips?: readonly string[];
  readonly dnsNames?: readonly string[];
}

interface Issuer {
  readonly commonName: string;
  readonly key: KeyObject;
  readonly keyId: Buffer;
}

const newKey = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
/** RFC 5280 method 1: SHA-1 of the subjectPublicKey BIT STRING contents (an identifier, not a security function). */
const keyIdOf = (publicKey: KeyObject): Buffer => {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  // P-256 SPKI: 26 bytes of header, then the 65-byte uncompressed point.
  return createHash('sha1').update(spki.subarray(spki.length - 65)).digest();
};

function issue(spec: CertificateSpec, publicKey: KeyObject, issuer: Issuer | undefined, signingKey: KeyObject, now: Date, days: number): string {
  const keyId = keyIdOf(publicKey);
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const extensions: Buffer[] = [];
  if (spec.ca) {
    extensions.push(extension(OID.basicConstraints, true, seq(TRUE)));
    extensions.push(extension(OID.keyUsage, true, bits(Buffer.from([0x06]), 1))); // keyCertSign, cRLSign
  } else {
    extensions.push(extension(OID.basicConstraints, true, seq()));
    extensions.push(extension(OID.keyUsage, true, bits(Buffer.from([0x80]), 7))); // digitalSignature
    extensions.push(extension(OID.extKeyUsage, false, seq(oid(spec.usage === 'server' ? OID.serverAuth : OID.clientAuth))));
    const san = [
      ...(spec.ips ?? []).map((ip) => tlv(0x87, Buffer.from(ip.split('.').map(Number)))),
      ...(spec.dnsNames ?? []).map((dns) => tlv(0x82, Buffer.from(dns, 'ascii'))),
    ];
    if (san.length) extensions.push(extension(OID.subjectAltName, false, seq(...san)));
  }
  extensions.push(extension(OID.subjectKeyIdentifier, false, octets(keyId)));
  if (issuer) extensions.push(extension(OID.authorityKeyIdentifier, false, seq(tlv(0x80, issuer.keyId))));
  const algorithm = seq(oid(OID.ecdsaWithSha256));
  const tbs = seq(
    tlv(0xa0, integer(Buffer.from([2]))), // v3
    integer(serial),
    algorithm,
    name(issuer?.commonName ?? spec.commonName),
    seq(utcTime(new Date(now.getTime() - 5 * 60_000)), utcTime(new Date(now.getTime() + days * 86_400_000))),
    name(spec.commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, seq(...extensions)),
  );
  const der = seq(tbs, algorithm, bits(sign('sha256', tbs, { key: signingKey, dsaEncoding: 'der' })));
  return `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`;
}

export interface TlsIdentity {
  /** PEM certificate. */
  readonly cert: Buffer;
  /** PEM PKCS#8 private key. */
  readonly key: Buffer;
  /** `sha256:<64 hex of the DER>`: the certificate's pin (signer allow-list syntax). */
  readonly pin: string;
}

export interface LocalMtls {
  /** PEM of the throw-away CA (trust anchor of both ends). */
  readonly ca: Buffer;
  readonly server: TlsIdentity;
  readonly client: TlsIdentity;
}

/** The SHA-256 pin of a PEM certificate, in the signer's allow-list syntax. */
export function certificatePin(pem: Buffer | string): string {
  return `sha256:${new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase()}`;
}

/**
 * A CA, a server certificate (`server`: SAN IP 127.0.0.1 + DNS localhost, serverAuth) and a
 * client certificate (`client`, clientAuth), all P-256, valid `days` (default 90) from now.
 */
export function localMtls(names: { readonly ca: string; readonly server: string; readonly client: string }, now = new Date(), days = 90): LocalMtls {
  const ca = newKey();
  const caPem = issue({ commonName: names.ca, ca: true }, ca.publicKey, undefined, ca.privateKey, now, days);
  const issuer: Issuer = { commonName: names.ca, key: ca.privateKey, keyId: keyIdOf(ca.publicKey) };
  const leaf = (spec: CertificateSpec): TlsIdentity => {
    const k = newKey();
    const pem = issue(spec, k.publicKey, issuer, issuer.key, now, days);
    const cert = new X509Certificate(pem);
    if (!cert.verify(ca.publicKey)) throw new Error(`the local certificate ${spec.commonName} does not verify under its CA`);
    return { cert: Buffer.from(pem), key: Buffer.from(k.privateKey.export({ type: 'pkcs8', format: 'pem' })), pin: certificatePin(pem) };
  };
  return {
    ca: Buffer.from(caPem),
    server: leaf({ commonName: names.server, usage: 'server', ips: ['127.0.0.1'], dnsNames: ['localhost'] }),
    client: leaf({ commonName: names.client, usage: 'client' }),
  };
}
