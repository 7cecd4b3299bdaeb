// The command registry: every `custody <group>` there is, in the order `custody --help` lists
// them. A group appears here only when the API behind it exists.
//
// Extension points (add a group file beside these and one line below when the API lands):
//  - keys         further KeyAdminService RPCs (activate/deactivate/retire/destroy) beside keys/commands.ts
//  - policy       activate over an RPC once the policy service has one (today: staged in its database)
// (keys: signer KeyAdminService list/suspend/resume/ceremony/backup/restore, keys/commands.ts; maintenance: intake
// IntakeAdminService, maintenance/commands.ts; list: risk ScreeningListService, lists/commands.ts; reconcile: ledger Reconcile, reconcile/commands.ts; a group with `defaultCommand` takes options
// right after its name.)
// A group is a CommandGroup (types.ts): commands with option specs (help is generated from
// them), run(ctx) returning an ExitCode or throwing CliError/UsageError. Keep the logic in
// plain functions beside the command (unit-tested) and load network clients lazily in run().
import { approvalsGroup } from './approvals/commands.js';
import { auditGroup } from './audit/verify.js';
import { controlsGroup } from './controls/report.js';
import { keysGroup } from './keys/commands.js';
import { listGroup } from './lists/commands.js';
import { maintenanceGroup } from './maintenance/commands.js';
import { policyGroup } from './policy/test.js';
import { reconcileGroup } from './reconcile/commands.js';
import type { CommandGroup } from './types.js';

export const COMMAND_GROUPS: readonly CommandGroup[] = Object.freeze([approvalsGroup, auditGroup, controlsGroup, keysGroup, listGroup, maintenanceGroup, policyGroup, reconcileGroup]);
