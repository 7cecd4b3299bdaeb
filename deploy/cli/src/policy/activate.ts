// `custody policy sign-bundle` and `custody policy activate` — bundle activation under the admin
// quorum (C-9.3.2-a, docs/policies.md). The policy service has no activation RPC: an activation is
// staged in its database with the admins' signatures over the bundle digest, and the RUNNING
// service verifies the quorum itself and activates the bundle between messages, or refuses it.
// Signing uses policy's own `bundleActivationBytes`; staging and the status read are policy's
// `stageBundle` / `activationStatus` (services/policy/src/cli/policy-bundle.ts, loaded from the
// built @custody/policy). The database URL is read from CUSTODY_DB_URL only.
import { readFileSync } from 'node:fs';
import { sign } from 'node:crypto';
import { integerOption, requiredOption, stringOption } from '../args.js';
import { loadKeyFile } from '../approvals/commands.js';
import { requireIdentifier } from '../approvals/signing.js';
import { CliError, ExitCode, UsageError, type CommandContext, type CommandSpec } from '../types.js';
import { backtestFailure } from './backtest.js';

export interface PolicyBundleApi {
  /** The bundle's digest (what admins sign) from its archive bytes. */
  digestOf(archive: Uint8Array): string;
  activationBytes(digest: string, adminId: string): Uint8Array;
}

export interface PolicyStaging {
  stageBundle(o: { url: string; schema?: string | undefined; bundle: string; signatures: readonly string[]; requestedBy: string }): Promise<{ id: string; digest: string }>;
  activationStatus(o: { url: string; schema?: string | undefined; id: string }): Promise<{ state: string; digest: string; outcome: string } | undefined>;
}

// The composition layer may use a service's exported API (as deploy/embedded does).
const policyBundleApi = async (): Promise<PolicyBundleApi> => {
  // eslint-disable-next-line @nx/enforce-module-boundaries
  const p = await import('@custody/policy');
  return { digestOf: (a) => p.parseBundleArchive(a).digest, activationBytes: p.bundleActivationBytes };
};

export async function loadPolicyStaging(): Promise<PolicyStaging> {
  let url: URL;
  try {
    url = new URL('./cli/policy-bundle.js', import.meta.resolve('@custody/policy'));
  } catch {
    throw new CliError(ExitCode.FAILED, 'the policy service is not installed in this workspace', 'POLICY_TOOL_MISSING');
  }
  let mod: Partial<PolicyStaging>;
  try {
    mod = (await import(url.href)) as Partial<PolicyStaging>;
  } catch (err) {
    throw new CliError(ExitCode.FAILED, `cannot load ${url.pathname} (build it with \`npm run build\`): ${(err as Error).message}`, 'POLICY_TOOL_MISSING');
  }
  if (typeof mod.stageBundle !== 'function' || typeof mod.activationStatus !== 'function') throw new CliError(ExitCode.FAILED, `${url.pathname} exports no stageBundle/activationStatus`, 'POLICY_TOOL_MISSING');
  return mod as PolicyStaging;
}

function readBundle(ctx: CommandContext): { path: string; bytes: Uint8Array } {
  const path = requiredOption(ctx.values, 'bundle');
  try {
    return { path, bytes: new Uint8Array(readFileSync(path)) };
  } catch (err) {
    throw new UsageError(`cannot read --bundle ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

const SIGNATURE = /^([^:\s]{1,128}):([^:\s]{1,128}):([0-9a-f]{128})$/;

export function signBundleCommand(load: () => Promise<PolicyBundleApi> = policyBundleApi): CommandSpec {
  return {
    name: 'sign-bundle',
    summary: 'as a policy admin, sign a bundle\'s digest offline for `custody policy activate` (prints admin:key-id:signature)',
    options: {
      bundle: { type: 'string', placeholder: 'file', description: 'the bundle archive (bundle.tar.gz)' },
      admin: { type: 'string', placeholder: 'id', description: 'your admin operator id (policy operators file, role policy_admin)' },
      'key-id': { type: 'string', placeholder: 'id', description: 'the id of your registered Ed25519 key' },
      'key-file': { type: 'string', placeholder: 'file', description: 'your Ed25519 private key: PKCS#8 PEM, or a 32-byte seed as hex or base64 (never printed)' },
    },
    details: 'Nothing is sent. Check the digest against the bundle you reviewed (and backtested) before signing.',
    run: async (ctx) => {
      const { bytes } = readBundle(ctx);
      const adminId = requireIdentifier('--admin', requiredOption(ctx.values, 'admin'));
      const keyId = requireIdentifier('--key-id', requiredOption(ctx.values, 'key-id'));
      const key = loadKeyFile(requiredOption(ctx.values, 'key-file'), ctx.io.err);
      const api = await load();
      let digest: string;
      try {
        digest = api.digestOf(bytes);
      } catch (err) {
        throw backtestFailure(err);
      }
      const signature = sign(null, api.activationBytes(digest, adminId), key).toString('hex');
      const argument = `${adminId}:${keyId}:${signature}`;
      ctx.io.out(ctx.json ? JSON.stringify({ ok: true, digest, adminId, keyId, signature, argument }) : argument);
      if (!ctx.json) ctx.io.err(`custody policy sign-bundle: signed bundle ${digest} as ${adminId}`);
      return ExitCode.OK;
    },
  };
}

export function activateCommand(load: () => Promise<PolicyStaging> = loadPolicyStaging, loadApi: () => Promise<PolicyBundleApi> = policyBundleApi, pollMs = 500): CommandSpec {
  return {
    name: 'activate',
    summary: 'stage a bundle activation with the admins\' signatures; the running policy service verifies the quorum and activates it (or refuses)',
    options: {
      bundle: { type: 'string', placeholder: 'file', description: 'the bundle archive to activate' },
      signature: { type: 'string', multiple: true, placeholder: 'admin:key-id:hex', description: 'an admin\'s signature (`custody policy sign-bundle` output)' },
      'requested-by': { type: 'string', placeholder: 'who', description: 'recorded with the request (default $USER)' },
      wait: { type: 'string', placeholder: 'seconds', description: 'wait this long for the service\'s verdict (0-600, default 60; 0 = stage only)' },
      schema: { type: 'string', placeholder: 'name', description: 'the policy schema (default $CUSTODY_DB_SCHEMA)' },
      yes: { type: 'boolean', short: 'y', description: 'do not ask for confirmation (required when stdin is not a terminal)' },
    },
    details: [
      'Environment: CUSTODY_DB_URL (required: the policy database, a role that may insert activation requests), CUSTODY_DB_SCHEMA.',
      'The CLI checks the signatures\' shape only: the service counts distinct admins (2 by default) whose signatures',
      'verify over the digest. Exit 0 activated, 1 refused (ACTIVATION_REFUSED) or no',
      'verdict within --wait (ACTIVATION_PENDING: the request stays staged), 2 usage, 3 database unreachable.',
      'A refusal is ACTIVATION_REFUSED with the service\'s message (e.g. the admin quorum not met); the active bundle stays.',
      'Rollback = activating the previous bundle with a fresh quorum.',
    ].join('\n'),
    run: async (ctx) => {
      const { path, bytes } = readBundle(ctx);
      const signatures = (ctx.values['signature'] as string[] | undefined) ?? [];
      if (signatures.length === 0) throw new UsageError('give the admins\' --signature (each `custody policy sign-bundle` output)');
      for (const s of signatures) if (!SIGNATURE.test(s)) throw new UsageError(`--signature must be <admin>:<key id>:<128 hex>, got "${s.slice(0, 40)}"`);
      const waitS = integerOption(ctx.values, 'wait', 0, 600, 60);
      const url = ctx.io.env['CUSTODY_DB_URL'];
      if (!url) throw new UsageError('set CUSTODY_DB_URL to the policy database');
      const schema = stringOption(ctx.values, 'schema') ?? ctx.io.env['CUSTODY_DB_SCHEMA'];
      const requestedBy = stringOption(ctx.values, 'requested-by') ?? ctx.io.env['USER'] ?? 'custody-cli';
      let digest: string;
      try {
        digest = (await loadApi()).digestOf(bytes);
      } catch (err) {
        throw backtestFailure(err);
      }
      if (ctx.values['yes'] !== true) {
        if (!ctx.io.interactive) throw new UsageError('--yes is required when stdin is not a terminal');
        ctx.io.err(`You are about to stage the ACTIVATION of bundle ${digest} (${path}) with ${signatures.length} admin signature(s): ${signatures.map((s) => s.split(':')[0]).join(', ')}.`);
        if ((await ctx.io.ask('Type "activate" to stage it: ')).trim() !== 'activate') throw new CliError(ExitCode.FAILED, 'not confirmed: nothing was staged', 'NOT_CONFIRMED');
      }
      const staging = await load();
      let staged: { id: string; digest: string };
      try {
        staged = await staging.stageBundle({ url, schema, bundle: path, signatures, requestedBy });
      } catch (err) {
        throw backtestFailure(err);
      }
      ctx.io.err(`custody policy activate: staged request ${staged.id} for bundle ${staged.digest}`);
      let status: { state: string; digest: string; outcome: string } | undefined = { state: 'requested', digest: staged.digest, outcome: '' };
      const deadline = Date.now() + waitS * 1000;
      let lastNote = Date.now();
      while (waitS > 0 && status?.state === 'requested' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, pollMs));
        try {
          status = await staging.activationStatus({ url, schema, id: staged.id });
        } catch (err) {
          throw backtestFailure(err);
        }
        if (Date.now() - lastNote >= 5000) {
          ctx.io.err(`custody policy activate: waiting for the policy service to pick it up (${Math.round((Date.now() - deadline + waitS * 1000) / 1000)} s)`);
          lastNote = Date.now();
        }
      }
      const state = status?.state ?? 'unknown';
      const doc = { requestId: staged.id, digest: staged.digest, state, outcome: status?.outcome || null };
      if (state === 'requested') {
        if (waitS === 0) {
          ctx.io.out(ctx.json ? JSON.stringify({ ok: true, ...doc }) : `staged ${staged.id} for bundle ${staged.digest}: the policy service verifies the quorum when it picks it up`);
          return ExitCode.OK;
        }
        throw new CliError(ExitCode.FAILED, `no verdict within ${waitS} s: request ${staged.id} stays staged (is the policy service running?)`, 'ACTIVATION_PENDING');
      }
      if (state !== 'activated') throw new CliError(ExitCode.FAILED, `the policy service refused the activation of ${staged.digest}: ${status?.outcome ?? state}`, 'ACTIVATION_REFUSED');
      ctx.io.out(ctx.json ? JSON.stringify({ ok: true, ...doc }) : `activated bundle ${staged.digest} (request ${staged.id})`);
      return ExitCode.OK;
    },
  };
}
