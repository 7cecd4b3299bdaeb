# METADATA
# title: Hot withdrawals paused while the hot wallet is over its cap
# description: |
#   When the hot balance of an asset has stayed above limits.json hot_wallet_cap for longer
#   than treasury.json breach_grace_seconds, the policy service raises an incident and sets
#   input.hot_wallet_pause (C-9.3.7.1-a): customer withdrawals from the hot wallet of that
#   asset are denied until the balance is back under the cap. A pause with a malformed
#   flag pauses too (fail closed).
package custody.treasury.hot_pause

_paused if input.hot_wallet_pause.paused == true

_paused if {
	input.hot_wallet_pause
	not is_boolean(input.hot_wallet_pause.paused)
}

# METADATA
# title: Hot withdrawals paused
# description: The hot wallet of the asset is paused after a cap breach lasting longer than the grace period.
# custom:
#   code: hot_wallet_paused
#   controls: [C-9.3.7.1-a]
deny contains reason if {
	input.source_wallet.tier == "hot"
	_paused
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"withdrawals from the ", input.asset,
			" hot wallet are paused: its balance stayed above the cap longer than the grace period",
		]),
	}
}
