# METADATA
# title: Time-of-day freezes
# description: |
#   Daily windows (freezes.json daily: id, start, end as UTC "HH:MM", assets) stop
#   withdrawals of the listed assets every day from start (inclusive) to end
#   (exclusive); a window whose end is before its start wraps midnight. A window with
#   malformed times counts as active.
package custody.freezes.time_of_day

import data.custody.lib.timestamps

# METADATA
# title: Time-of-day freeze
# description: A daily freeze window for the asset is active now.
# custom:
#   code: time_of_day_freeze
#   controls: [C-9.4-c]
deny contains reason if {
	count(active) > 0
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"withdrawals of ", input.asset, " are frozen at ", timestamps.time_of_day(input.now),
			" UTC by daily window ", concat(", ", sort(active)),
		]),
	}
}

# active is the set of ids of daily windows in force for the asset now.
active contains _id(window) if {
	some window in data.freezes.daily
	_applies(window)
	not _outside(window)
}

_applies(window) if "*" in window.assets

_applies(window) if input.asset in window.assets

_outside(window) if {
	timestamps.is_time_of_day(window.start)
	timestamps.is_time_of_day(window.end)
	not _inside(window, timestamps.time_of_day(input.now))
}

_inside(window, t) if {
	window.start <= window.end
	t >= window.start
	t < window.end
}

_inside(window, t) if {
	window.start > window.end
	t >= window.start
}

_inside(window, t) if {
	window.start > window.end
	t < window.end
}

_id(window) := window.id if is_string(window.id)

else := "(unnamed)"
