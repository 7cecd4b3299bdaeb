# Shared test inputs. The file ends in _test.rego so that the build leaves it out of the
# bundle, like every test.
package custody.testing.fixtures_test

now := "2025-06-02T10:00:00Z"

# A small retail BTC withdrawal from the hot wallet that every rule allows.
retail_btc := {
	"kind": "withdrawal",
	"withdrawal_id": "wd-0001",
	"requested_by": "cust-retail-1",
	"now": now,
	"asset": "BTC",
	"amount": "1000000",
	"source_wallet": {"id": "btc-hot-01", "tier": "hot"},
	"destination": {"address": "bc1qretail1paymentsxxxxxxxxxxxxxxxxxxxxx"},
	"account": {"id": "acct-retail-1", "tier": "retail", "opened_at": "2024-03-15T09:30:00Z"},
	"velocity": {"rolling_24h_total": "3000000"},
	"risk": {"verdict": "ALLOW", "score": 12, "sanctions_hit": false, "assessed_at": "2025-06-02T09:58:00Z"},
	"ledger_hold": {"id": "hold-0001", "amount": "1000000"},
	"approvals": [],
}

# An institutional BTC withdrawal (amount set per test) to a long-whitelisted address.
institutional_btc(amount, tier) := object.union(retail_btc, {
	"withdrawal_id": "wd-0100",
	"requested_by": "cust-inst-1",
	"amount": amount,
	"source_wallet": {"id": concat("-", ["btc", tier, "01"]), "tier": tier},
	"destination": {"address": "bc1qinstitutionalvaultxxxxxxxxxxxxxxxxxx"},
	"account": {"id": "acct-inst-1", "tier": "institutional", "opened_at": "2023-01-01T00:00:00Z"},
	"velocity": {"rolling_24h_total": amount},
	"ledger_hold": {"id": "hold-0100", "amount": amount},
})

# An institutional ETH withdrawal (wei amounts beyond 2^53).
institutional_eth(amount) := object.union(institutional_btc(amount, "hot"), {
	"asset": "ETH",
	"source_wallet": {"id": "eth-hot-01", "tier": "hot"},
	"destination": {"address": "0x2222222222222222222222222222222222222222"},
})

vote(operator, role) := {"operator_id": operator, "role": role, "approved_at": "2025-06-02T09:30:00Z"}

codes(reasons) := {r.code | some r in reasons}

# replace(base, patch) sets the top-level fields of patch on base (object.union would
# merge nested objects instead of replacing them).
replace(base, patch) := object.union(object.remove(base, [k | some k, _ in patch]), patch)
