import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { lookupKeys, normalizeAddress } from '../../domain/address.js';
import { RiskError } from '../../domain/errors.js';
import { diffLists, listDigest } from '../../domain/lists.js';
import { csvRows, detectFormat, parseOfac } from './ofac.js';

const fixture = (name: string): string => readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url), 'utf8');

describe('C-8.3.4-b OFAC SDN import: published formats', () => {
  it('sdn_advanced.xml: every Digital Currency Address feature, with party and issue date', () => {
    const list = parseOfac(fixture('sdn_advanced.xml'));
    expect(list.format).toBe('sdn_advanced_xml');
    expect(list.publishedAt?.toISOString()).toBe('2024-05-01T00:00:00.000Z');
    const keys = list.entries.map((e) => e.key);
    expect(keys).toEqual(
      expect.arrayContaining([
        'evm:0x8589427373d6d84e98730d7795d8f6f8731fda16',
        'evm:0x722122df12d4e14e13ac3b6895a86e84145b6967',
        'evm:0x098b716b8aaf21512996dc57eb0615e2383e2f96',
        'bitcoin:149w62rY42aZBox8fGcmqNsXUzSStKeq8C',
        'bitcoin:bc1qsxf77cvwcd6jv6j8d8j3uhh4g0xqw4meswmwuc',
        'bitcoin:3Kp8Qc5z7yevDeoQxhS5RSSKnEi5x7AQ43',
        'other:TEAqwfMhXLaomXhZ8KeMhx3njGmQEDnsUR',
        'evm:0x19aa5fe80d33a56d56c78e82ea5e50e5d80b4dff',
      ]),
    );
    expect(list.entries).toHaveLength(10);
    expect(keys.some((k) => k.includes('tornado.cash'))).toBe(false); // Website feature is not an address
    const lazarus = list.entries.find((e) => e.key === 'evm:0x098b716b8aaf21512996dc57eb0615e2383e2f96');
    expect(lazarus).toMatchObject({ currency: 'ETH', partyRef: '23254', partyName: 'LAZARUS GROUP', address: '0x098B716B8Aaf21512996dC57EB0615e2383E2f96' });
    expect(list.warnings).toEqual([]);
  });

  it('classic sdn.xml: idList ids and remarks; Publish_Date', () => {
    const list = parseOfac(fixture('sdn.xml'));
    expect(list.format).toBe('sdn_xml');
    expect(list.publishedAt?.toISOString()).toBe('2024-05-01T00:00:00.000Z');
    expect(list.entries.map((e) => e.key).sort()).toEqual(
      [
        'bitcoin:149w62rY42aZBox8fGcmqNsXUzSStKeq8C',
        'bitcoin:3Kp8Qc5z7yevDeoQxhS5RSSKnEi5x7AQ43',
        'bitcoin:bc1qsxf77cvwcd6jv6j8d8j3uhh4g0xqw4meswmwuc',
        'evm:0x098b716b8aaf21512996dc57eb0615e2383e2f96',
        'evm:0x722122df12d4e14e13ac3b6895a86e84145b6967',
        'evm:0x8589427373d6d84e98730d7795d8f6f8731fda16',
      ].sort(),
    );
  });

  it('SDN.CSV: remarks "Digital Currency Address - XBT ...;" incl. alt. entries, quotes and the \\x1a trailer', () => {
    const list = parseOfac(fixture('SDN.CSV'));
    expect(list.format).toBe('sdn_csv');
    expect(list.entries).toHaveLength(8);
    expect(list.entries.find((e) => e.key === 'other:TEAqwfMhXLaomXhZ8KeMhx3njGmQEDnsUR')).toMatchObject({ currency: 'USDT', partyRef: '90002' });
    // a trailing "." of the remark is not part of the address
    expect(list.entries.some((e) => e.key === 'evm:0x19aa5fe80d33a56d56c78e82ea5e50e5d80b4dff')).toBe(true);
    expect([...csvRows('1,"a ""b"", c",x\r\n2,y\r\n\x1a')]).toEqual([['1', 'a "b", c', 'x'], ['2', 'y']]);
  });

  it('the content digest depends on the entries, not on the file format', () => {
    const csv = parseOfac(fixture('SDN.CSV'));
    const adv = parseOfac(fixture('sdn_advanced.xml'));
    const reordered = parseOfac(fixture('SDN.CSV').split('\r\n').reverse().join('\r\n'));
    expect(listDigest('ofac_sdn', reordered.entries)).toBe(listDigest('ofac_sdn', csv.entries));
    expect(listDigest('ofac_sdn', adv.entries)).not.toBe(listDigest('ofac_sdn', csv.entries));
  });

  it('diff between two published versions: Tornado Cash removed, one XBT address added', () => {
    const v1 = parseOfac(fixture('sdn_advanced.xml'));
    const v2 = parseOfac(fixture('sdn_advanced.v2.xml'));
    const diff = diffLists(new Set(v1.entries.map((e) => e.key)), v2.entries);
    expect(diff.added).toEqual(['bitcoin:12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h']);
    expect(diff.removed).toEqual([
      'evm:0x722122df12d4e14e13ac3b6895a86e84145b6967',
      'evm:0x8589427373d6d84e98730d7795d8f6f8731fda16',
      'evm:0xd90e2f925da726b50c4ed8d0fb90ad053324f31b',
    ]);
  });

  it('a transfer address matches its list entry whatever its case (EVM) and exactly (base58)', () => {
    const keys = new Set(parseOfac(fixture('sdn_advanced.xml')).entries.map((e) => e.key));
    const hit = (chain: string, raw: string): boolean => lookupKeys(normalizeAddress(chain, raw), raw).some((k) => keys.has(k));
    expect(hit('ethereum-mainnet', '0x8589427373d6d84e98730d7795d8f6f8731fda16')).toBe(true);
    expect(hit('arbitrum-one', '0X8589427373D6D84E98730D7795D8F6F8731FDA16'.replace('0X', '0x'))).toBe(true);
    expect(hit('bitcoin-mainnet', 'BC1QSXF77CVWCD6JV6J8D8J3UHH4G0XQW4MESWMWUC')).toBe(true);
    expect(hit('bitcoin-mainnet', '149w62rY42aZBox8fGcmqNsXUzSStKeq8C')).toBe(true);
    expect(hit('tron-mainnet', 'TEAqwfMhXLaomXhZ8KeMhx3njGmQEDnsUR')).toBe(true);
    expect(hit('tron-mainnet', 'teaqwfmhxlaomxhz8kemhx3njgmqednsur')).toBe(false);
    expect(hit('ethereum-mainnet', '0x0000000000000000000000000000000000000001')).toBe(false);
  });

  it('refuses malformed or empty lists with INVALID_LIST', () => {
    expect(() => detectFormat('hello')).toThrow(RiskError);
    expect(() => parseOfac('<Sanctions><ReferenceValueSets/></Sanctions>')).toThrow(/no "Digital Currency Address/);
    expect(() => parseOfac('<sdnList><sdnEntry><uid>1</uid></sdnEntry></sdnList>')).toThrow(/no digital currency addresses/);
    expect(() => parseOfac('<Sanctions><ReferenceValueSets><FeatureTypeValues><FeatureType ID="1">Digital Currency Address - XBT')).toThrow(RiskError);
  });

  it('keeps an unnormalisable listed address as an exact match and warns (fail closed)', () => {
    const xml = '<sdnList><sdnEntry><uid>7</uid><lastName>X</lastName><idList><id><idType>Digital Currency Address - XBT</idType><idNumber>1NotAValidChecksumAddressXXXXXXXX</idNumber></id></idList></sdnEntry></sdnList>';
    const list = parseOfac(xml);
    expect(list.entries[0]?.key).toBe('other:1NotAValidChecksumAddressXXXXXXXX');
    expect(list.warnings[0]).toMatch(/not a valid bitcoin address/);
  });
});
