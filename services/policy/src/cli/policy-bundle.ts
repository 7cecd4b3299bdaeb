/**
 * Bundle activation tooling (C-9.3.2-a). Admins sign a bundle's digest offline; anyone
 * may stage the archive with the signatures; the running service verifies the quorum
 * itself and activates it between messages, or refuses it and keeps the active bundle.
 *
 *   policy-bundle digest --bundle <bundle.tar.gz>
 *   policy-bundle sign   --bundle <bundle.tar.gz> --admin <operator id> --key-id <id> --key-file <seed file>
 *                        → prints "<admin>:<key id>:<hex signature>"
 *   policy-bundle stage  --bundle <bundle.tar.gz> --signature <admin:key:hex> --signature ... [--requested-by <who>]
 *                        (CUSTODY_DB_URL, optional CUSTODY_DB_SCHEMA)
 *
 * Rollback = staging the previous archive with a fresh quorum. Run it through
 * `bash services/policy/scripts/policy-bundle.sh <command> ...`.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ed25519 } from '@noble/curves/ed25519.js';
import { createServiceDataSource } from '@custody/platform';
import { parseSeed } from '../adapters/keys/local-decision-signer.js';
import { parseBundleArchive } from '../adapters/opa/bundle-archive.js';
import { POLICY_ENTITIES } from '../adapters/persistence/schema.js';
import { stageBundleActivation } from '../adapters/persistence/postgres-store.js';
import { bundleActivationBytes, type AdminSignature } from '../domain/approval.js';

const USAGE = 'usage: policy-bundle digest|sign|stage --bundle <bundle.tar.gz> [...] (see the file header)';

export function parseSignatureArg(text: string): AdminSignature {
  const [adminId, keyId, sig, ...rest] = text.split(':');
  if (!adminId || !keyId || !sig || rest.length > 0 || !/^[0-9a-f]{128}$/.test(sig)) throw new Error(`--signature must be <admin>:<key id>:<128 hex>, got "${text.slice(0, 40)}"`);
  return { adminId, keyId, signature: new Uint8Array(Buffer.from(sig, 'hex')) };
}

export interface PolicyDatabase {
  readonly url: string;
  readonly schema?: string | undefined;
}

async function withPolicyDatabase<T>(db: PolicyDatabase, fn: (dataSource: import('typeorm').DataSource) => Promise<T>): Promise<T> {
  const dataSource = createServiceDataSource({ service: 'policy', url: db.url, ...(db.schema ? { schema: db.schema } : {}), entities: POLICY_ENTITIES, poolSize: 1 });
  await dataSource.initialize();
  try {
    return await fn(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

/** Stages an activation request (the operator CLI's `custody policy activate`); the running service verifies the quorum. */
export async function stageBundle(o: PolicyDatabase & { readonly bundle: string; readonly signatures: readonly string[]; readonly requestedBy: string }): Promise<{ id: string; digest: string }> {
  const archive = new Uint8Array(await readFile(o.bundle));
  const bundle = parseBundleArchive(archive);
  const signatures = o.signatures.map(parseSignatureArg);
  const id = await withPolicyDatabase(o, (ds) => stageBundleActivation(ds, archive, signatures, o.requestedBy, new Date()));
  return { id, digest: bundle.digest };
}

/** What became of a staged activation request: requested (not picked up yet), activated or refused (with the reason). */
export async function activationStatus(o: PolicyDatabase & { readonly id: string }): Promise<{ state: string; digest: string; outcome: string } | undefined> {
  return withPolicyDatabase(o, async (ds) => {
    const [r] = (await ds.query(`SELECT "state", "digest", "outcome" FROM "bundle_activation_request" WHERE "id" = $1`, [o.id])) as { state: string; digest: string; outcome: string }[];
    return r;
  });
}

export async function runPolicyBundleCli(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<{ exitCode: number; output: string }> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      bundle: { type: 'string' },
      admin: { type: 'string' },
      'key-id': { type: 'string' },
      'key-file': { type: 'string' },
      signature: { type: 'string', multiple: true },
      'requested-by': { type: 'string', default: 'policy-bundle-cli' },
    },
  });
  if (!values.bundle) return { exitCode: 1, output: USAGE };
  const archive = new Uint8Array(await readFile(values.bundle));
  const bundle = parseBundleArchive(archive);
  switch (command) {
    case 'digest':
      return { exitCode: 0, output: bundle.digest };
    case 'sign': {
      if (!values.admin || !values['key-id'] || !values['key-file']) return { exitCode: 1, output: USAGE };
      const seed = parseSeed(await readFile(values['key-file'], 'utf8'));
      const signature = ed25519.sign(bundleActivationBytes(bundle.digest, values.admin), seed);
      return { exitCode: 0, output: `${values.admin}:${values['key-id']}:${Buffer.from(signature).toString('hex')}` };
    }
    case 'stage': {
      const url = env['CUSTODY_DB_URL'];
      if (!url) return { exitCode: 1, output: 'CUSTODY_DB_URL is not set' };
      const signatures = (values.signature ?? []).map(parseSignatureArg);
      const schema = env['CUSTODY_DB_SCHEMA'];
      const dataSource = createServiceDataSource({ service: 'policy', url, ...(schema ? { schema } : {}), entities: POLICY_ENTITIES, poolSize: 1 });
      await dataSource.initialize();
      try {
        const id = await stageBundleActivation(dataSource, archive, signatures, values['requested-by'], new Date());
        return { exitCode: 0, output: `staged activation request ${id} for bundle ${bundle.digest} with ${signatures.length} signature(s); the service verifies the quorum` };
      } finally {
        await dataSource.destroy();
      }
    }
    default:
      return { exitCode: 1, output: USAGE };
  }
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  runPolicyBundleCli(process.argv.slice(2), process.env).then(
    ({ exitCode, output }) => {
      process.stdout.write(`${output}\n`);
      process.exitCode = exitCode;
    },
    (err: unknown) => {
      process.stderr.write(`policy-bundle failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
