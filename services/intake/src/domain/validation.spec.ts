import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { bech32, bech32m } from '@scure/base';
import { checkBitcoinAddress, decodeSegwit, BITCOIN_MAINNET, BITCOIN_TESTNET } from './address/bitcoin.js';
import { checkEvmAddress, toChecksumAddress } from './address/evm.js';
import { formatUnits, MAX_AMOUNT, parseBaseUnits } from './amount.js';
import { AssetRegistry, DEFAULT_ASSETS } from './asset-registry.js';
import { InvalidArgumentError } from './errors.js';
import { validateSubmission } from './withdrawal.js';

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('C-5.5.2-b address validators (properties)', () => {
  it('EVM: any 20 bytes in checksum, lower or upper case is accepted and normalises to the checksum', () => {
    fc.assert(
      fc.property(bytes(20), (b) => {
        fc.pre(b.some((x) => x !== 0));
        const sum = toChecksumAddress(hex(b));
        for (const form of [sum, '0x' + hex(b), '0x' + hex(b).toUpperCase()]) expect(checkEvmAddress(form)).toEqual({ ok: true, normalized: sum });
      }),
    );
  });

  it('EVM: flipping the case of one letter of a checksummed address is detected', () => {
    fc.assert(
      fc.property(bytes(20), fc.nat(), (b, k) => {
        const sum = toChecksumAddress(hex(b));
        const letters = [...sum].map((c, i) => (i > 1 && /[a-fA-F]/.test(c) ? i : -1)).filter((i) => i >= 0);
        fc.pre(letters.length >= 2);
        const i = letters[k % letters.length] as number;
        const c = sum[i] as string;
        const flipped = sum.slice(0, i) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + sum.slice(i + 1);
        const mixed = flipped.slice(2) !== flipped.slice(2).toLowerCase() && flipped.slice(2) !== flipped.slice(2).toUpperCase();
        fc.pre(mixed);
        expect(checkEvmAddress(flipped).ok).toBe(false);
      }),
    );
  });

  it('segwit: encode(v, program) decodes back, and only on its own network', () => {
    const program = fc.oneof(
      fc.record({ version: fc.constant(0), program: fc.oneof(bytes(20), bytes(32)) }),
      fc.record({ version: fc.integer({ min: 1, max: 16 }), program: fc.uint8Array({ minLength: 2, maxLength: 40 }) }),
    );
    fc.assert(
      fc.property(program, fc.constantFrom(BITCOIN_MAINNET, BITCOIN_TESTNET), ({ version, program }, net) => {
        const coder = version === 0 ? bech32 : bech32m;
        const address = coder.encode(net.hrp, [version, ...coder.toWords(program)], 90);
        const decoded = decodeSegwit(address);
        expect(decoded.ok && decoded.value.version).toBe(version);
        expect(decoded.ok && hex(decoded.value.program)).toBe(hex(program));
        expect(checkBitcoinAddress(address, net).ok).toBe(true);
        const other = net === BITCOIN_MAINNET ? BITCOIN_TESTNET : BITCOIN_MAINNET;
        expect(checkBitcoinAddress(address, other)).toMatchObject({ ok: false, code: 'ADDRESS_WRONG_NETWORK' });
        // The wrong checksum variant for the version is refused.
        const wrong = (version === 0 ? bech32m : bech32).encode(net.hrp, [version, ...coder.toWords(program)], 90);
        expect(decodeSegwit(wrong).ok).toBe(false);
      }),
    );
  });

  it('segwit: any single-character substitution is detected', () => {
    const charset = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
    fc.assert(
      fc.property(bytes(20), fc.nat(), fc.nat(), (program, pos, ch) => {
        const address = bech32.encode('bc', [0, ...bech32.toWords(program)]);
        const i = 3 + (pos % (address.length - 3));
        const replacement = charset[ch % 32] as string;
        fc.pre(replacement !== address[i]);
        const typo = address.slice(0, i) + replacement + address.slice(i + 1);
        expect(checkBitcoinAddress(typo, BITCOIN_MAINNET).ok).toBe(false);
      }),
    );
  });
});

describe('C-5.5.2-b amounts are positive integers of base units', () => {
  it('round-trips every integer in (0, MAX]', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: MAX_AMOUNT }), (n) => {
        expect(parseBaseUnits(n.toString())).toBe(n);
      }),
    );
  });
  it.each([
    ['0', 'AMOUNT_NOT_POSITIVE'],
    ['', 'AMOUNT_REQUIRED'],
    ['-1', 'AMOUNT_MALFORMED'],
    ['1.5', 'AMOUNT_NOT_INTEGER'],
    ['1e18', 'AMOUNT_MALFORMED'],
    ['007', 'AMOUNT_MALFORMED'],
    [' 1', 'AMOUNT_MALFORMED'],
    [(MAX_AMOUNT + 1n).toString(), 'AMOUNT_TOO_LARGE'],
  ])('refuses %j with %s naming the field', (value, code) => {
    const err = (() => {
      try {
        parseBaseUnits(value);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err).toMatchObject({ code, field: 'amount' });
  });
  it('formats with decimals for messages', () => {
    expect(formatUnits(1_500_000n, 6)).toBe('1.5');
    expect(formatUnits(1n, 18)).toBe('0.000000000000000001');
  });
});

describe('C-5.5.2-b submission validation names the field', () => {
  const registry = new AssetRegistry(DEFAULT_ASSETS);
  const good = {
    idempotencyKey: 'k-1',
    customerAccount: 'acct-1',
    asset: 'ETH',
    amount: '1000',
    destinationAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    destinationTag: '',
    clientReference: 'ref',
  };
  it.each([
    [{ asset: 'DOGE' }, 'asset', 'UNKNOWN_ASSET'],
    [{ amount: '0' }, 'amount', 'AMOUNT_NOT_POSITIVE'],
    [{ destinationAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD' }, 'destination_address', 'ADDRESS_CHECKSUM_INVALID'],
    [{ destinationAddress: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4' }, 'destination_address', 'ADDRESS_WRONG_NETWORK'],
    [{ asset: 'BTC' }, 'destination_address', 'ADDRESS_WRONG_NETWORK'],
    [{ destinationTag: '123' }, 'destination_tag', 'DESTINATION_TAG_NOT_SUPPORTED'],
    [{ idempotencyKey: '' }, 'idempotency_key', 'IDEMPOTENCY_KEY_REQUIRED'],
    [{ customerAccount: 'a b' }, 'customer_account', 'CUSTOMER_ACCOUNT_MALFORMED'],
  ])('%j -> %s %s', (patch, field, code) => {
    expect(() => validateSubmission({ ...good, ...patch }, registry)).toThrow(expect.objectContaining({ field, code }) as unknown as Error);
  });
  it('normalises a lower-case EVM address to its checksum form', () => {
    expect(validateSubmission({ ...good, destinationAddress: good.destinationAddress.toLowerCase() }, registry).destinationAddress).toBe(good.destinationAddress);
  });
});
