# METADATA
# title: Maintenance freezes
# description: |
#   Scheduled maintenance windows (freezes.json maintenance: id, start, end, assets)
#   stop withdrawals of the listed assets only ("*" = every asset), from start
#   (inclusive) to end (exclusive). A window whose times are malformed counts as active.
package custody.freezes.maintenance

import data.custody.lib.timestamps

# METADATA
# title: Maintenance freeze
# description: A maintenance window for the asset is active now.
# custom:
#   code: maintenance_freeze
#   controls: [C-9.4-c]
deny contains reason if {
	count(active) > 0
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"withdrawals of ", input.asset, " are frozen by maintenance window ",
			concat(", ", sort(active)),
		]),
	}
}

# active is the set of ids of maintenance windows in force for the asset now.
active contains _id(window) if {
	some window in data.freezes.maintenance
	_applies(window)
	not _outside(window)
}

_applies(window) if "*" in window.assets

_applies(window) if input.asset in window.assets

_outside(window) if {
	timestamps.epoch_seconds(input.now) < timestamps.epoch_seconds(window.start)
	timestamps.valid(window.end)
}

_outside(window) if {
	timestamps.valid(window.start)
	timestamps.epoch_seconds(input.now) >= timestamps.epoch_seconds(window.end)
}

_id(window) := window.id if is_string(window.id)

else := "(unnamed)"
