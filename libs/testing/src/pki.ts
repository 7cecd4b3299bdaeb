// A throw-away PKI for TLS tests, made by the openssl CLI (an independent implementation, on
// purpose: interop tests should not trust certificates our own code made). P-256 keys, one
// day of validity, every file `<name>.crt` / `<name>.key` in one directory, so a test can hand
// paths to grpcurl/kcat/the probe and PEMs to grpc-js. Nothing here logs; openssl's output is
// captured and only its stderr is quoted when a step fails (it never contains key material).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ExtendedKeyUsage = 'serverAuth' | 'clientAuth';

/** What an issued leaf certificate says. Only what is asked for goes in (no SAN unless given). */
export interface TestCertificateRequest {
  /** Subject CN; defaults to the file name. */
  readonly cn?: string;
  readonly dns?: readonly string[];
  readonly ip?: readonly string[];
  readonly uri?: readonly string[];
  readonly extendedKeyUsage?: readonly ExtendedKeyUsage[];
  /** The keyUsage extension as openssl writes it, e.g. 'critical,digitalSignature'; absent by default. */
  readonly keyUsage?: string;
}

export interface TestCertificate {
  readonly name: string;
  /** PEM of the certificate. */
  readonly cert: string;
  /** PEM of the private key (P-256, PKCS#8). */
  readonly key: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** The certificate followed by the intermediates that issued it (root excluded): what a server presents. */
  readonly chain: string;
  readonly chainPath: string;
}

/** A CA that issues certificates: the PKI's root, another root, or an intermediate. */
export interface TestIssuer {
  readonly ca: TestCertificate;
  /** serverAuth; SAN defaults to IP:127.0.0.1 and DNS:localhost (a request's fields replace them). */
  server(name: string, request?: TestCertificateRequest): TestCertificate;
  /** clientAuth; no SAN unless asked. */
  client(name: string, request?: TestCertificateRequest): TestCertificate;
  /** Exactly the request (e.g. serverAuth and clientAuth in one, as cert-manager issues it for the chart). */
  issue(name: string, request: TestCertificateRequest): TestCertificate;
  /** An intermediate CA (pathlen 0) signed by this issuer; its leaves carry it in `chain`. */
  intermediate(name: string, options?: { readonly cn?: string }): TestIssuer;
}

export interface TestPki extends TestIssuer {
  readonly dir: string;
  /** A path inside the PKI's directory (for the test's other files). */
  path(file: string): string;
  /** Another self-signed root in the same directory, unrelated to `ca` (a CA the peer does not trust). */
  root(name: string, options?: { readonly cn?: string }): TestIssuer;
  /** Every certificate and key issued so far by file name ('ca.crt', 'server.key', …), as grpc-js takes them. */
  pemFiles(): Record<string, Buffer>;
  /** Removes the directory if the PKI created it; a directory passed in belongs to the caller. */
  cleanup(): void;
}

export interface TestPkiOptions {
  /** Where the files go; a new temporary directory (removed by cleanup) when absent. */
  readonly dir?: string;
  /** The root's subject CN; its files are `ca.crt` / `ca.key`. Default 'test-ca'. */
  readonly caName?: string;
  /** Prefix of the temporary directory's name. */
  readonly prefix?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const DN_VALUE = /^[^/=+,\n]+$/;

/** Makes a root CA (`ca.crt`/`ca.key`) with openssl, and issues from it on demand (synchronously). */
export function createTestPki(options: TestPkiOptions = {}): TestPki {
  const owned = options.dir === undefined;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), options.prefix ?? 'test-pki-'));
  const path = (file: string): string => join(dir, file);
  const issued = new Map<string, TestCertificate>();

  const openssl = (...args: string[]): void => {
    try {
      execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    } catch (err) {
      const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
      throw new Error(`openssl ${args[0]} failed${stderr ? `: ${stderr}` : ''}`);
    }
  };
  const claim = (name: string, cn: string): void => {
    if (!NAME.test(name)) throw new Error(`test PKI: '${name}' is not a plain file name`);
    if (!DN_VALUE.test(cn)) throw new Error(`test PKI: CN '${cn}' has characters a subject cannot hold here`);
    if (issued.has(name) || existsSync(path(`${name}.crt`))) throw new Error(`test PKI: '${name}' is already issued in ${dir}`);
  };
  const newKey = (name: string): void => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
  const record = (name: string, chainBelow: string): TestCertificate => {
    const cert = readFileSync(path(`${name}.crt`), 'utf8');
    const chain = cert + chainBelow;
    writeFileSync(path(`${name}.chain.crt`), chain);
    const entry: TestCertificate = {
      name,
      cert,
      key: readFileSync(path(`${name}.key`), 'utf8'),
      certPath: path(`${name}.crt`),
      keyPath: path(`${name}.key`),
      chain,
      chainPath: path(`${name}.chain.crt`),
    };
    issued.set(name, entry);
    return entry;
  };
  /** Signs `<name>.csr` with the issuer and the extensions given, one day. */
  const sign = (name: string, issuer: TestCertificate, extensions: string): void => {
    writeFileSync(path(`${name}.ext`), extensions);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', issuer.certPath, '-CAkey', issuer.keyPath, '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
  };
  const csr = (name: string, cn: string): void => {
    newKey(name);
    openssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  };

  const selfSigned = (name: string, cn: string): TestCertificate => {
    claim(name, cn);
    newKey(name);
    openssl('req', '-x509', '-new', '-key', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${cn}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
    return record(name, '');
  };

  const issuerOf = (ca: TestCertificate, chainBelow: string): TestIssuer => {
    const issue = (name: string, request: TestCertificateRequest): TestCertificate => {
      const cn = request.cn ?? name;
      claim(name, cn);
      const san = [...(request.dns ?? []).map((d) => `DNS:${d}`), ...(request.ip ?? []).map((i) => `IP:${i}`), ...(request.uri ?? []).map((u) => `URI:${u}`)];
      const lines = [
        ...(san.length ? [`subjectAltName=${san.join(',')}`] : []),
        ...(request.extendedKeyUsage?.length ? [`extendedKeyUsage=${request.extendedKeyUsage.join(',')}`] : []),
        ...(request.keyUsage ? [`keyUsage=${request.keyUsage}`] : []),
      ];
      csr(name, cn);
      sign(name, ca, lines.map((l) => `${l}\n`).join(''));
      return record(name, chainBelow);
    };
    return {
      ca,
      issue,
      server: (name, request = {}) => issue(name, { ip: ['127.0.0.1'], dns: ['localhost'], extendedKeyUsage: ['serverAuth'], ...request }),
      client: (name, request = {}) => issue(name, { extendedKeyUsage: ['clientAuth'], ...request }),
      intermediate: (name, opts = {}) => {
        const cn = opts.cn ?? name;
        claim(name, cn);
        csr(name, cn);
        sign(name, ca, 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n');
        const intermediate = record(name, chainBelow);
        return issuerOf(intermediate, intermediate.chain);
      },
    };
  };

  const root = issuerOf(selfSigned('ca', options.caName ?? 'test-ca'), '');
  return {
    ...root,
    dir,
    path,
    root: (name, opts = {}) => issuerOf(selfSigned(name, opts.cn ?? name), ''),
    pemFiles: () => {
      const out: Record<string, Buffer> = {};
      for (const c of issued.values()) {
        out[`${c.name}.crt`] = Buffer.from(c.cert);
        out[`${c.name}.key`] = Buffer.from(c.key);
      }
      return out;
    },
    cleanup: () => {
      if (owned) rmSync(dir, { recursive: true, force: true });
    },
  };
}
