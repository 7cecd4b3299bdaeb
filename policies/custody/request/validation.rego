# METADATA
# title: Shape of a decision request
# description: |
#   The policy input a request must have. Anything else is malformed and the decision
#   is deny with reason input_invalid (decision.rego). A request of a kind no rule
#   handles is denied with no_rule. Fields not listed here are ignored.
#   Amounts are base-unit integers as decimal strings; timestamps are canonical UTC
#   ("YYYY-MM-DDTHH:MM:SSZ", see lib/timestamps.rego).
#
#   Each check is a named rule that holds when the field is good; errors lists the
#   checks that do not hold. Negating a named rule is true when a field is missing,
#   whereas `not f(input.missing)` is undefined in Rego (the reference is evaluated
#   outside the negation), which would let a missing field pass.
package custody.request.validation

import data.custody.lib.amounts
import data.custody.lib.timestamps

supported_kinds := {"withdrawal"}

wallet_tiers := {"hot", "warm", "cold"}

risk_verdicts := {"ALLOW", "REVIEW", "BLOCK"}

# kind_unsupported holds for a request of a kind that no rule decides.
kind_unsupported if {
	_is_object
	is_string(input.kind)
	not input.kind in supported_kinds
}

# errors is the set of problems with the input; empty when it is well formed.
errors := {"input: must be a JSON object"} if {
	not _is_object
} else := field_errors

# The message for each check, by check name.
messages := {
	"kind": "kind: must be a string",
	"withdrawal_id": "withdrawal_id: must be an identifier (1-128 printable characters)",
	"requested_by": "requested_by: must be an identifier (1-128 printable characters)",
	"now": "now: must be a canonical UTC timestamp (YYYY-MM-DDTHH:MM:SSZ)",
	"asset": "asset: must be an asset symbol (1-32 of A-Z a-z 0-9 . _ -)",
	"amount": "amount: must be a positive base-unit integer as a decimal string",
	"source_wallet.id": "source_wallet.id: must be an identifier (1-128 printable characters)",
	"source_wallet.tier": "source_wallet.tier: must be one of cold, hot, warm",
	"destination.address": "destination.address: must be an identifier (1-128 printable characters)",
	"destination.tag": "destination.tag: must be an identifier when present",
	"account.id": "account.id: must be an identifier (1-128 printable characters)",
	"account.tier": "account.tier: must be an identifier (1-128 printable characters)",
	"account.opened_at": "account.opened_at: must be a canonical UTC timestamp",
	"velocity.rolling_24h_total": "velocity.rolling_24h_total: must be a base-unit amount that includes this request's amount",
	"risk.verdict": "risk.verdict: must be one of ALLOW, BLOCK, REVIEW",
	"risk.score": "risk.score: must be a number from 0 to 100",
	"risk.sanctions_hit": "risk.sanctions_hit: must be a boolean",
	"risk.assessed_at": "risk.assessed_at: must be a canonical UTC timestamp",
	"ledger_hold": "ledger_hold: must be an object with id and amount when present",
	"approvals": "approvals: must be an array when present",
	"maintenance_windows": "maintenance_windows: must be an array when present",
	"chain": "chain: must be an identifier when present",
}

field_errors contains msg if {
	some check, msg in messages
	not check in passed
}

field_errors contains concat("", ["approvals[", format_int(i, 10), "]: must have operator_id, role and a canonical approved_at"]) if {
	some i, vote in _votes
	not _vote(vote)
}

field_errors contains concat("", ["maintenance_windows[", format_int(i, 10), "]: must have id, canonical start and end, assets and chains arrays, boolean withdrawals_suspended and cancelled"]) if {
	some i, window in _windows
	not _window(window)
}

passed contains "kind" if is_string(input.kind)

passed contains "withdrawal_id" if _identifier(input.withdrawal_id)

passed contains "requested_by" if _identifier(input.requested_by)

passed contains "now" if timestamps.valid(input.now)

passed contains "asset" if _symbol(input.asset)

passed contains "amount" if amounts.is_positive(input.amount)

passed contains "source_wallet.id" if _identifier(input.source_wallet.id)

passed contains "source_wallet.tier" if input.source_wallet.tier in wallet_tiers

passed contains "destination.address" if _identifier(input.destination.address)

passed contains "destination.tag" if not _has_tag

passed contains "destination.tag" if _identifier(input.destination.tag)

passed contains "account.id" if _identifier(input.account.id)

passed contains "account.tier" if _identifier(input.account.tier)

passed contains "account.opened_at" if timestamps.valid(input.account.opened_at)

passed contains "velocity.rolling_24h_total" if {
	amounts.is_amount(input.velocity.rolling_24h_total)
	amounts.at_least(input.velocity.rolling_24h_total, input.amount)
}

passed contains "risk.verdict" if input.risk.verdict in risk_verdicts

passed contains "risk.score" if {
	is_number(input.risk.score)
	input.risk.score >= 0
	input.risk.score <= 100
}

passed contains "risk.sanctions_hit" if is_boolean(input.risk.sanctions_hit)

passed contains "risk.assessed_at" if timestamps.valid(input.risk.assessed_at)

passed contains "ledger_hold" if not _has_ledger_hold

passed contains "ledger_hold" if {
	_identifier(input.ledger_hold.id)
	amounts.is_amount(input.ledger_hold.amount)
}

passed contains "approvals" if not _has_approvals

passed contains "approvals" if is_array(input.approvals)

passed contains "maintenance_windows" if not _present(input, "maintenance_windows")

passed contains "maintenance_windows" if is_array(input.maintenance_windows)

passed contains "chain" if not _present(input, "chain")

passed contains "chain" if _identifier(input.chain)

_is_object if is_object(input)

_has_tag if _present(input.destination, "tag")

_has_ledger_hold if _present(input, "ledger_hold")

_has_approvals if _present(input, "approvals")

_votes := input.approvals if is_array(input.approvals)

_windows := input.maintenance_windows if is_array(input.maintenance_windows)

# _present(obj, key) holds when obj has key, whatever its value (even null or false).
_present(obj, key) if {
	is_object(obj)
	_ := obj[key]
}

_identifier(x) if {
	is_string(x)
	regex.match(`^[!-~]{1,128}$`, x)
}

_symbol(x) if {
	is_string(x)
	regex.match(`^[A-Za-z0-9._-]{1,32}$`, x)
}

_vote(vote) if {
	_identifier(vote.operator_id)
	_identifier(vote.role)
	timestamps.valid(vote.approved_at)
}

_window(window) if {
	_identifier(window.id)
	timestamps.valid(window.start)
	timestamps.valid(window.end)
	is_array(window.assets)
	is_array(window.chains)
	is_boolean(window.withdrawals_suspended)
	is_boolean(window.cancelled)
}
