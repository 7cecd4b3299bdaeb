# METADATA
# title: Withdrawal halt switches
# description: |
#   Emergency switches (freezes.json halts): all stops every withdrawal, assets lists the
#   assets whose withdrawals are stopped, leaving the others running. Anything but an
#   explicit all = false and an assets list counts as halted.
package custody.freezes.halt

# METADATA
# title: Withdrawals halted
# description: A halt switch covers this asset.
# custom:
#   code: withdrawals_halted
#   controls: [C-9.4-c]
deny contains reason if {
	not _running
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", ["withdrawals of ", input.asset, " are halted"]),
	}
}

_running if {
	data.freezes.halts.all == false
	is_array(data.freezes.halts.assets)
	not _asset_halted
}

_asset_halted if input.asset in data.freezes.halts.assets
