// The command registry: every `custody <group>` there is, in the order `custody --help` lists
// them. A group appears here only when the API behind it exists.
//
// Extension points (add a group file beside these and one line below when the API lands):
//  - keys         signer KeyAdminService: suspend/resume keys, key ceremony, backup shares
//  - maintenance  intake admin API: maintenance notices
//  - reconcile    ledger: reconciliation with the chain
// A group is a CommandGroup (types.ts): commands with option specs (help is generated from
// them), run(ctx) returning an ExitCode or throwing CliError/UsageError. Keep the logic in
// plain functions beside the command (unit-tested) and load network clients lazily in run().
import { approvalsGroup } from './approvals/commands.js';
import { auditGroup } from './audit/verify.js';
import { controlsGroup } from './controls/report.js';
import { policyGroup } from './policy/test.js';
import type { CommandGroup } from './types.js';

export const COMMAND_GROUPS: readonly CommandGroup[] = Object.freeze([approvalsGroup, auditGroup, controlsGroup, policyGroup]);
