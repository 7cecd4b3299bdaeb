// Secret scrubbing shared by the logger and the config error messages.
//
// Two independent nets:
//  1. by key: a property whose name says "secret" (password, token, privateKey, pin, seed,
//     mnemonic, authorization, apiKey, ...) has its value replaced, at any depth;
//  2. by shape: a string that contains a PEM private key, credentials in a URL
//     (`postgres://user:pass@host`), `password=...` pairs, a bearer token, a JWT, a BIP-32
//     extended private key, a WIF private key or a run of 12+ BIP-39 words is rewritten
//     wherever it appears. Bare 64-hex strings are NOT touched: they are also transaction
//     and block hashes, which logs need; raw keys must never reach a log call in the first place.
import { wordlist as bip39English } from '@scure/bip39/wordlists/english.js';

export const REDACTED = '[Redacted]';

/** Words that make a property name secret on their own (compared after splitting camelCase / snake_case / kebab-case). */
const SECRET_WORDS = new Set([
  'password', 'passwd', 'pwd', 'passphrase', 'secret', 'secrets', 'token', 'pin', 'seed', 'mnemonic',
  'authorization', 'cookie', 'credential', 'credentials', 'privatekey', 'apikey', 'secretkey',
]);
/** Words that make a following `key` secret: privateKey, api_key, signing-key, masterKey, ... */
const KEY_QUALIFIERS = new Set(['private', 'api', 'secret', 'signing', 'master', 'access', 'wrapping', 'encryption', 'session', 'seed']);
/**
 * Trailing words that describe a secret without being one: tokenId, apiKeyId, secretName,
 * privateKeyPath, pinRequired, tokenAddress (an ERC-20 contract), passwordLength. A hash of a
 * secret (passwordHash) is not in the list and stays redacted.
 */
const DESCRIPTIVE_SUFFIXES = new Set([
  'id', 'ids', 'name', 'names', 'ref', 'version', 'type', 'kind', 'state', 'status', 'tier', 'alias', 'index', 'label',
  'path', 'file', 'count', 'length', 'algorithm', 'curve', 'format', 'usage', 'expiry', 'expires', 'expired', 'at',
  'created', 'rotated', 'ttl', 'required', 'enabled', 'present', 'address', 'symbol', 'contract', 'decimals',
  'amount', 'balance', 'standard', 'network', 'chain',
]);

function splitWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

/** True when a property name denotes a secret (case and separator insensitive). */
export function isSecretKey(name: string): boolean {
  const words = splitWords(name);
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    const secret = SECRET_WORDS.has(word) || (word === 'key' && i > 0 && KEY_QUALIFIERS.has(words[i - 1] as string));
    if (!secret) continue;
    const rest = words.slice(i + 1);
    if (rest.length === 0 || !rest.every((w) => DESCRIPTIVE_SUFFIXES.has(w))) return true;
  }
  return false;
}

/** Key names (exact spellings) handed to pino's path-based `redact` as a first, cheap net. */
export const SECRET_KEY_NAMES: readonly string[] = [
  'password', 'passwd', 'passphrase', 'secret', 'clientSecret', 'client_secret', 'token', 'accessToken',
  'access_token', 'refreshToken', 'refresh_token', 'privateKey', 'private_key', 'pin', 'seed', 'mnemonic',
  'authorization', 'Authorization', 'apiKey', 'api_key', 'cookie',
];

const PEM_PRIVATE_KEY = /-----BEGIN ([A-Z0-9 ]*?)PRIVATE KEY( BLOCK)?-----[\s\S]*?(?:-----END \1PRIVATE KEY\2-----|$)/g;
// scheme://user:password@ — the password may itself contain ':' or '@' when not URL-encoded,
// so it runs to the last '@' before the path.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/:@]*):([^\s/]*)@/gi;
const KEY_VALUE_SECRET = /\b(password|passwd|pwd|passphrase|secret|token|api[_-]?key|private[_-]?key|pin)(["']?\s*[=:]\s*)("[^"]*"|'[^']*'|[^\s&;,]+)/gi;
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g;
const JWT = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
const EXTENDED_PRIVATE_KEY = /\b[xyztuvYZUV]prv[1-9A-HJ-NP-Za-km-z]{100,112}\b/g;
// Bitcoin WIF private keys: base58, 51 (uncompressed: 5, testnet 9) or 52 (compressed: K/L, testnet c) characters.
const WIF_PRIVATE_KEY = /\b(?:[59][1-9A-HJ-NP-Za-km-z]{50}|[KLc][1-9A-HJ-NP-Za-km-z]{51})\b/g;

const BIP39 = new Set(bip39English);
const MNEMONIC_MIN_WORDS = 12;

/** Replaces every run of 12 or more consecutive BIP-39 English words (surrounding punctuation ignored). */
function scrubMnemonics(input: string): string {
  const tokens = [...input.matchAll(/\S+/g)];
  if (tokens.length < MNEMONIC_MIN_WORDS) return input;
  const spans: Array<[number, number]> = [];
  let runStart = -1;
  let runLength = 0;
  let runEnd = 0;
  const close = (): void => {
    if (runLength >= MNEMONIC_MIN_WORDS) spans.push([runStart, runEnd]);
    runLength = 0;
  };
  for (const token of tokens) {
    const word = token[0].replace(/^[^a-zA-Z]+|[^a-zA-Z]+$/g, '').toLowerCase();
    if (BIP39.has(word)) {
      if (runLength === 0) runStart = token.index;
      runLength++;
      runEnd = token.index + token[0].length;
    } else {
      close();
    }
  }
  close();
  if (spans.length === 0) return input;
  let out = '';
  let cursor = 0;
  for (const [from, to] of spans) {
    out += input.slice(cursor, from) + REDACTED;
    cursor = to;
  }
  return out + input.slice(cursor);
}

/** Rewrites secret-looking substrings of a string. Strings without any are returned unchanged. */
export function scrubString(input: string): string {
  let out = input
    .replace(PEM_PRIVATE_KEY, REDACTED)
    .replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`)
    .replace(KEY_VALUE_SECRET, (_m, key: string, sep: string) => `${key}${sep}${REDACTED}`)
    .replace(BEARER, (_m, scheme: string) => `${scheme} ${REDACTED}`)
    .replace(JWT, REDACTED)
    .replace(EXTENDED_PRIVATE_KEY, REDACTED)
    .replace(WIF_PRIVATE_KEY, REDACTED);
  out = scrubMnemonics(out);
  return out;
}

export interface RedactOptions {
  /** Depth below which values are replaced by a marker instead of walked (default 10). */
  readonly maxDepth?: number;
}

function serializeError(err: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { type: err.name, message: err.message, stack: err.stack };
  for (const [k, v] of Object.entries(err)) if (!(k in out)) out[k] = v;
  if (err.cause !== undefined) out.cause = err.cause;
  return out;
}

/**
 * Returns a copy of `value` with secret-named properties replaced by {@link REDACTED} and
 * every string scrubbed by {@link scrubString}, at any depth. Errors become plain objects
 * ({type, message, stack, cause, ...own fields}). Cycles become '[Circular]'. The input
 * is never mutated.
 */
export function redactDeep(value: unknown, options: RedactOptions = {}): unknown {
  const maxDepth = options.maxDepth ?? 10;
  const seen = new WeakSet<object>();
  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') return scrubString(v);
    if (v === null || typeof v !== 'object') return v;
    if (v instanceof Date) return v;
    if (Buffer.isBuffer(v) || ArrayBuffer.isView(v)) return `[${v.constructor.name} ${v.byteLength} bytes]`;
    if (seen.has(v)) return '[Circular]';
    if (depth >= maxDepth) return '[Truncated]';
    seen.add(v);
    try {
      if (Array.isArray(v)) return v.map((item) => walk(item, depth + 1));
      if (v instanceof Map) return walk(Object.fromEntries(v), depth);
      if (v instanceof Set) return walk([...v], depth);
      const source = v instanceof Error ? serializeError(v) : (v as Record<string, unknown>);
      if (typeof (source as { toJSON?: unknown }).toJSON === 'function') {
        return walk((source as { toJSON: () => unknown }).toJSON(), depth + 1);
      }
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(source)) {
        out[k] = isSecretKey(k) && item !== undefined && item !== null && item !== '' ? REDACTED : walk(item, depth + 1);
      }
      return out;
    } finally {
      seen.delete(v);
    }
  };
  return walk(value, 0);
}
