import { describe, it, expect } from '@jest/globals';
import { REDACTED, isSecretKey, redactDeep, scrubString } from './redact.js';
import { MNEMONIC_12, MNEMONIC_24, PEM } from '../test/fixtures/secrets.js';

describe('isSecretKey', () => {
  it.each([
    'password', 'dbPassword', 'DB_PASSWORD', 'secret', 'clientSecret', 'token', 'accessToken', 'refresh_token',
    'privateKey', 'private_key', 'PrivateKey', 'pin', 'hsmPin', 'seed', 'seedPhrase', 'mnemonic', 'authorization',
    'Authorization', 'apiKey', 'api-key', 'X-Api-Key', 'cookie', 'credentials', 'passphrase', 'signingKey', 'masterKey',
    'passwordHash', 'decisionToken', 'privateKeyPem', 'tokenSecret',
  ])('%s is secret', (key) => {
    expect(isSecretKey(key)).toBe(true);
  });

  it.each([
    'keyId', 'publicKey', 'key', 'address', 'amount', 'pinned', 'mapping', 'spinner', 'withdrawalId', 'txHash',
    'tokenId', 'tokenAddress', 'token_symbol', 'signingKeyId', 'secretName', 'privateKeyPath', 'pinRequired', 'passwordLength',
  ])('%s is not', (key) => {
    expect(isSecretKey(key)).toBe(false);
  });
});

describe('scrubString', () => {
  it('removes whole PEM private key blocks but keeps the text around them', () => {
    const out = scrubString(`loaded key ${PEM} from vault`);
    expect(out).toBe(`loaded key ${REDACTED} from vault`);
  });

  it('removes a truncated PEM private key to the end of the string', () => {
    const out = scrubString(`oops -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcw`);
    expect(out).toBe(`oops ${REDACTED}`);
  });

  it('keeps certificates (public)', () => {
    const cert = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
    expect(scrubString(cert)).toBe(cert);
  });

  it('removes passwords from URLs but keeps user, host and database', () => {
    expect(scrubString('connect postgres://intake_app:pa%40ss:w0rd@127.0.0.1:5432/custody failed')).toBe(
      `connect postgres://intake_app:${REDACTED}@127.0.0.1:5432/custody failed`,
    );
    expect(scrubString('amqps://u:p@@mq/vhost')).toBe(`amqps://u:${REDACTED}@mq/vhost`);
    expect(scrubString('https://example.com/a@b')).toBe('https://example.com/a@b');
  });

  it('removes key=value secrets, bearer tokens and JWTs', () => {
    expect(scrubString('host=db password=hunter2 user=x')).toBe(`host=db password=${REDACTED} user=x`);
    expect(scrubString('{"token": "abc.def"}')).toBe(`{"token": ${REDACTED}}`);
    expect(scrubString('Authorization: Bearer abc.DEF-123_~+/=')).toBe(`Authorization: Bearer ${REDACTED}`);
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJ3aXRoZHJhd2FsIjoiMSJ9.c2lnbmF0dXJl';
    expect(scrubString(`decision ${jwt} ok`)).toBe(`decision ${REDACTED} ok`);
  });

  it('removes BIP-32 extended private keys but not public ones', () => {
    const xprv = 'xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi';
    const xpub = 'xpub661MyMwAqRbcFtXgS5sYJABqqG9YLmC4Q1Rdap9gSE8NqtwybGhePY2gZ29ESFjqJoCu1Rupje8YtGqsefD265TMg7usUDFdp6W1EGMcet8';
    expect(scrubString(`k=${xprv}`)).toBe(`k=${REDACTED}`);
    expect(scrubString(xpub)).toBe(xpub);
  });

  it('removes WIF private keys but not addresses', () => {
    // Well-known example keys from the Bitcoin wiki (uncompressed and compressed forms).
    expect(scrubString('wif 5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ')).toBe(`wif ${REDACTED}`);
    expect(scrubString('KwdMAjGmerYanjeui5SHS7JkmpZvVipYvB2LJGU1ZxJwYvP98617')).toBe(REDACTED);
    const addresses = '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq TJCnKsPa7y5okkXvQAidZBzqx3QyQ6sxMW';
    expect(scrubString(addresses)).toBe(addresses);
  });

  it('removes runs of 12+ BIP-39 words, and only those', () => {
    expect(scrubString(`seed is "${MNEMONIC_12}" ok`)).toBe(`seed is ${REDACTED} ok`);
    expect(scrubString(`${MNEMONIC_24}`)).toBe(REDACTED);
    const eleven = MNEMONIC_12.split(' ').slice(0, 11).join(' ');
    expect(scrubString(eleven)).toBe(eleven);
    const prose = 'the withdrawal of 5 BTC to the new address was approved by two operators today';
    expect(scrubString(prose)).toBe(prose);
  });

  it('leaves ordinary strings alone, including transaction hashes', () => {
    const s = 'tx 0x5c504ed432cb51138bcf09aa5e8a410dd4a1e204ef84bfed1be16dfba1b22060 confirmed at 1234';
    expect(scrubString(s)).toBe(s);
  });
});

describe('redactDeep', () => {
  it('redacts secret keys at any depth and scrubs every string, without mutating the input', () => {
    const input = {
      a: { b: { c: { d: { e: { password: 'p1', list: [{ apiKey: 'k1' }, `dsn postgres://u:p2@h/db`] } } } } },
      headers: { authorization: 'Bearer t1', 'x-request-id': 'r1' },
      note: PEM,
    };
    const out = JSON.stringify(redactDeep(input));
    for (const secret of ['p1', 'k1', ':p2@', 't1', 'MHcCAQEE']) expect(out).not.toContain(secret);
    expect(out).toContain('"x-request-id":"r1"');
    expect(input.a.b.c.d.e.password).toBe('p1');
  });

  it('turns errors into plain objects with scrubbed message, stack and cause', () => {
    const cause = new Error('auth failed for postgres://svc:pw-in-cause@db/x');
    const err = Object.assign(new Error(`boom ${PEM}`, { cause }), { code: 'E1', token: 'tok-1' });
    const out = redactDeep(err) as Record<string, unknown>;
    const json = JSON.stringify(out);
    expect(out.type).toBe('Error');
    expect(out.code).toBe('E1');
    expect(out.token).toBe(REDACTED);
    expect(json).not.toContain('MHcCAQEE');
    expect(json).not.toContain('pw-in-cause');
    expect(json).toContain('auth failed for postgres://svc:');
  });

  it('survives cycles, Maps, Sets and buffers', () => {
    const node: Record<string, unknown> = { name: 'n' };
    node.self = node;
    const out = redactDeep({ node, map: new Map([['secret', 's']]), set: new Set(['x']), buf: Buffer.from('raw key bytes') }) as Record<string, unknown>;
    expect((out.node as Record<string, unknown>).self).toBe('[Circular]');
    expect(out.map).toEqual({ secret: REDACTED });
    expect(out.set).toEqual(['x']);
    expect(out.buf).toBe('[Buffer 13 bytes]');
  });
});
