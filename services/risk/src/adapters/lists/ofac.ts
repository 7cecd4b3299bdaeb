// Parsers for the OFAC SDN list in its published formats, reduced to the digital-currency
// addresses it lists:
//  - sdn_advanced.xml (namespace .../exports/ADVANCED_XML): FeatureTypeValues/FeatureType
//    "Digital Currency Address - <CODE>" gives the feature type id; every
//    DistinctParty/Profile/Feature[@FeatureTypeID=id]/FeatureVersion/VersionDetail is an
//    address; the party name is the primary alias's DocumentedNamePart values.
//  - sdn.xml (classic, sdnList/sdnEntry): idList/id with idType "Digital Currency Address -
//    <CODE>" and idNumber, plus the same phrase in remarks.
//  - SDN.CSV (classic, 12 columns, "-0-" for empty): the remarks column carries
//    "Digital Currency Address - <CODE> <address>;" (also "alt. Digital Currency ...").
import { XMLParser } from 'fast-xml-parser';
import { buildEntries, type ListFormat, type ParsedList, type RawListedAddress } from '../../domain/lists.js';
import { RiskError } from '../../domain/errors.js';

export const OFAC_SDN_SOURCE = 'ofac_sdn';
const DCA_PREFIX = 'Digital Currency Address - ';
const REMARKS_DCA = /Digital Currency Address - ([A-Za-z0-9]{2,10}) ([A-Za-z0-9:._-]+)/g;

const ARRAYS = new Set([
  'DistinctParty', 'Profile', 'Identity', 'Alias', 'DocumentedName', 'DocumentedNamePart', 'NamePartValue', 'Feature', 'FeatureVersion', 'VersionDetail', 'FeatureType',
  'sdnEntry', 'id', 'program',
]);

function parser(): XMLParser {
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    removeNSPrefix: true,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    processEntities: true,
    isArray: (name) => ARRAYS.has(name),
  });
}

type Node = Record<string, unknown>;
const asArray = (v: unknown): Node[] => (Array.isArray(v) ? (v as Node[]) : v === undefined || v === null || v === '' ? [] : [v as Node]);
const textOf = (v: unknown): string => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (v && typeof v === 'object' && '#text' in v) return String((v as Node)['#text']);
  return '';
};
const attr = (n: Node, name: string): string => (typeof n[`@_${name}`] === 'string' ? (n[`@_${name}`] as string) : '');

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export function detectFormat(text: string): Exclude<ListFormat, 'synthetic'> {
  const head = stripBom(text).slice(0, 4096);
  if (/<Sanctions[\s>]/.test(head)) return 'sdn_advanced_xml';
  if (/<sdnList[\s>]/.test(head)) return 'sdn_xml';
  if (/^[\s\x1a]*\d+,"/.test(head)) return 'sdn_csv';
  throw new RiskError('INVALID_LIST', 'unrecognised list format: expected OFAC sdn_advanced.xml, sdn.xml or SDN.CSV');
}

export function parseOfac(text: string): ParsedList {
  const format = detectFormat(text);
  switch (format) {
    case 'sdn_advanced_xml':
      return finish(format, ...parseAdvanced(text));
    case 'sdn_xml':
      return finish(format, ...parseClassicXml(text));
    case 'sdn_csv':
      return finish(format, parseCsv(text), undefined);
  }
}

function finish(format: ListFormat, raw: RawListedAddress[], publishedAt: Date | undefined): ParsedList {
  const { entries, warnings } = buildEntries(raw);
  if (entries.length === 0) throw new RiskError('INVALID_LIST', `the ${format} file lists no digital currency addresses; refusing to replace the list with an empty one`);
  return Object.freeze({ source: OFAC_SDN_SOURCE, format, publishedAt, entries: Object.freeze(entries), warnings: Object.freeze(warnings) });
}

function parseXml(text: string, root: string): Node {
  let doc: Node;
  try {
    doc = parser().parse(stripBom(text), true) as Node;
  } catch (e) {
    throw new RiskError('INVALID_LIST', `malformed XML: ${(e as Error).message.slice(0, 200)}`);
  }
  const node = doc[root];
  if (!node || typeof node !== 'object') throw new RiskError('INVALID_LIST', `XML root <${root}> missing`);
  return node as Node;
}

function parseAdvanced(text: string): [RawListedAddress[], Date | undefined] {
  const root = parseXml(text, 'Sanctions');
  const ref = (root['ReferenceValueSets'] ?? {}) as Node;
  const featureTypes = new Map<string, string>();
  for (const ft of asArray((ref['FeatureTypeValues'] as Node | undefined)?.['FeatureType'])) {
    const label = textOf(ft).trim();
    if (label.startsWith(DCA_PREFIX)) featureTypes.set(attr(ft, 'ID'), label.slice(DCA_PREFIX.length).trim());
  }
  if (featureTypes.size === 0) throw new RiskError('INVALID_LIST', 'sdn_advanced.xml has no "Digital Currency Address - *" FeatureType');
  const out: RawListedAddress[] = [];
  for (const party of asArray((root['DistinctParties'] as Node | undefined)?.['DistinctParty'])) {
    const partyRef = attr(party, 'FixedRef');
    for (const profile of asArray(party['Profile'])) {
      const partyName = primaryName(profile) || partyRef;
      for (const feature of asArray(profile['Feature'])) {
        const currency = featureTypes.get(attr(feature, 'FeatureTypeID'));
        if (currency === undefined) continue;
        for (const version of asArray(feature['FeatureVersion'])) {
          for (const detail of asArray(version['VersionDetail'])) {
            const address = textOf(detail).trim();
            if (address) out.push({ currency, address, partyRef, partyName });
          }
        }
      }
    }
  }
  const d = root['DateOfIssue'] as Node | undefined;
  const publishedAt = d ? utcDate(Number(textOf(d['Year'])), Number(textOf(d['Month'])), Number(textOf(d['Day']))) : undefined;
  return [out, publishedAt];
}

function primaryName(profile: Node): string {
  const identities = asArray(profile['Identity']);
  const identity = identities.find((i) => attr(i, 'Primary') === 'true') ?? identities[0];
  if (!identity) return '';
  const aliases = asArray(identity['Alias']);
  const alias = aliases.find((a) => attr(a, 'Primary') === 'true') ?? aliases[0];
  if (!alias) return '';
  const name = asArray(alias['DocumentedName'])[0];
  if (!name) return '';
  return asArray(name['DocumentedNamePart'])
    .flatMap((p) => asArray(p['NamePartValue']).map((v) => textOf(v).trim()))
    .filter(Boolean)
    .join(' ');
}

function parseClassicXml(text: string): [RawListedAddress[], Date | undefined] {
  const root = parseXml(text, 'sdnList');
  const out: RawListedAddress[] = [];
  for (const entry of asArray(root['sdnEntry'])) {
    const partyRef = textOf(entry['uid']).trim();
    const partyName = [textOf(entry['lastName']).trim(), textOf(entry['firstName']).trim()].filter(Boolean).join(', ') || partyRef;
    for (const id of asArray((entry['idList'] as Node | undefined)?.['id'])) {
      const type = textOf(id['idType']).trim();
      if (type.startsWith(DCA_PREFIX)) out.push({ currency: type.slice(DCA_PREFIX.length).trim(), address: textOf(id['idNumber']).trim(), partyRef, partyName });
    }
    for (const m of textOf(entry['remarks']).matchAll(REMARKS_DCA)) out.push({ currency: m[1] ?? '', address: m[2] ?? '', partyRef, partyName });
  }
  const pub = textOf((root['publshInformation'] as Node | undefined)?.['Publish_Date']).trim();
  const m = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(pub);
  return [out, m ? utcDate(Number(m[3]), Number(m[1]), Number(m[2])) : undefined];
}

function parseCsv(text: string): RawListedAddress[] {
  const out: RawListedAddress[] = [];
  for (const row of csvRows(stripBom(text))) {
    if (row.length < 12 || !/^\d+$/.test((row[0] ?? '').trim())) continue;
    const partyRef = (row[0] ?? '').trim();
    const partyName = (row[1] ?? '').trim() || partyRef;
    for (const m of (row[11] ?? '').matchAll(REMARKS_DCA)) out.push({ currency: m[1] ?? '', address: m[2] ?? '', partyRef, partyName });
  }
  return out;
}

/** RFC 4180 rows (quoted fields, doubled quotes, CRLF); the trailing \x1a of OFAC files is ignored. */
export function* csvRows(text: string): Generator<string[]> {
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      yield row;
      row = [];
      field = '';
    } else if (ch !== '\x1a') field += ch;
  }
  if (field.length > 0 || row.length > 0) {
    row.push(field);
    yield row;
  }
}

function utcDate(y: number, m: number, d: number): Date | undefined {
  if (!Number.isInteger(y) || !Number.isInteger(m) || !Number.isInteger(d)) return undefined;
  const date = new Date(Date.UTC(y, m - 1, d));
  return Number.isNaN(date.getTime()) ? undefined : date;
}
