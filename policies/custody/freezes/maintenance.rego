# METADATA
# title: Maintenance freezes
# description: |
#   Two sources of maintenance windows stop withdrawals, from start (inclusive) to end
#   (exclusive):
#   - the bundle's windows (freezes.json maintenance: id, start, end, assets; "*" = every
#     asset), signed with the bundle: reason maintenance_freeze;
#   - the windows intake announced on custody.maintenance.scheduled.v1, which the service
#     puts in input.maintenance_windows (latest record per maintenance id: id, start, end,
#     assets, chains, withdrawals_suspended, cancelled; empty assets and chains = every
#     asset): reason maintenance_freeze_announced.
#   Events can only add freezes or remove their own: a cancelled announced window drops
#   only itself (never a bundle window, even one with the same id), and a window that only
#   delays deposits (withdrawals_suspended = false) does not freeze withdrawals.
#   Fail closed: a window whose times are malformed counts as active, an announced window
#   whose scope is malformed covers every asset, and one that names chains covers the
#   request when its chain is unknown.
package custody.freezes.maintenance

import data.custody.lib.timestamps

# METADATA
# title: Maintenance freeze
# description: A maintenance window of the signed bundle for the asset is active now.
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

# METADATA
# title: Announced maintenance freeze
# description: |
#   A maintenance window announced by intake (custody.maintenance.scheduled.v1), not
#   cancelled and suspending withdrawals, covers the asset (or its chain) now.
# custom:
#   code: maintenance_freeze_announced
#   controls: [C-9.4-c]
deny contains reason if {
	count(active_announced) > 0
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"withdrawals of ", input.asset, " are frozen by announced maintenance window ",
			concat(", ", sort(active_announced)),
		]),
	}
}

# active is the set of ids of the bundle's maintenance windows in force for the asset now.
active contains _id(window) if {
	some window in data.freezes.maintenance
	_applies(window)
	not _outside(window)
}

# active_announced is the set of ids of announced windows in force for the asset now.
active_announced contains _id(window) if {
	some window in _announced
	not _cancelled(window)
	not _deposits_only(window)
	_covers(window)
	not _outside(window)
}

_announced := input.maintenance_windows if is_array(input.maintenance_windows)

else := []

_applies(window) if "*" in window.assets

_applies(window) if input.asset in window.assets

# An announced window applies to every asset when it names neither assets nor chains.
_covers(window) if {
	count(window.assets) == 0
	count(window.chains) == 0
}

_covers(window) if input.asset in window.assets

_covers(window) if input.chain in window.chains

# The request's chain is unknown: a window naming chains may cover it.
_covers(window) if {
	count(window.chains) > 0
	not _known_chain
}

_covers(window) if not _scope_well_formed(window)

_known_chain if {
	is_string(input.chain)
	input.chain != ""
}

_scope_well_formed(window) if {
	is_array(window.assets)
	is_array(window.chains)
}

# Only an explicit true cancels, only an explicit false means "deposits only".
_cancelled(window) if window.cancelled == true

_deposits_only(window) if window.withdrawals_suspended == false

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
