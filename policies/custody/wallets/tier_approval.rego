# METADATA
# title: Approvals by source wallet tier
# description: |
#   Spending from a warm or cold wallet always needs human approval: the approval tier
#   configured for the wallet tier (tiers.json: warm → dual, cold → triple including a
#   cold-storage officer). Each cold operation needs its own quorum.
package custody.wallets.tier_approval

# METADATA
# title: Wallet tier requires approval
# description: The source wallet's tier has an approval tier other than none.
# custom:
#   code: wallet_tier_requires_approval
#   controls: [C-9.3.6.2-c, C-9.3.7.4-b]
require contains requirement if {
	tier != "none"
	requirement := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"spending from a ", input.source_wallet.tier, " wallet requires the ", tier, " approval tier",
		]),
		"tier": tier,
	}
}

# A missing setting names a tier that does not exist, which quorum.rego denies as policy_data_invalid.
tier := data.tiers.wallet[input.source_wallet.tier].approval_tier if {
	is_string(data.tiers.wallet[input.source_wallet.tier].approval_tier)
} else := concat("", ["(tiers.wallet.", input.source_wallet.tier, ".approval_tier not configured)"])
