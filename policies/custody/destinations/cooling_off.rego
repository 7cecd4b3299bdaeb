# METADATA
# title: Cooling-off period for newly whitelisted destinations
# description: |
#   A whitelisted address becomes usable only cooling_off_seconds after it was added
#   (whitelists.json), so that an attacker who adds an address cannot drain to it at
#   once. Malformed entries or settings never count as cooled off.
package custody.destinations.cooling_off

import data.custody.destinations.whitelist
import data.custody.lib.timestamps

# METADATA
# title: Destination still cooling off
# description: The destination is whitelisted, but more recently than the cooling-off period.
# custom:
#   code: destination_cooling_off
#   controls: [C-8.2.2.5-c]
deny contains reason if {
	count(whitelist.matches) > 0
	not _usable
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"destination ", input.destination.address, " was added to the whitelist less than ",
			_cooling_off_text, " seconds ago; usable from ", _usable_from,
		]),
	}
}

_usable if {
	some entry in whitelist.matches
	_cooled_off(entry)
}

_cooled_off(entry) if {
	timestamps.epoch_seconds(input.now) >= _usable_at(entry)
}

_usable_at(entry) := timestamps.epoch_seconds(entry.added_at) + cooling_off_seconds

cooling_off_seconds := data.whitelists.cooling_off_seconds if {
	is_number(data.whitelists.cooling_off_seconds)
	data.whitelists.cooling_off_seconds >= 0
}

_cooling_off_text := format_int(cooling_off_seconds, 10) if is_number(cooling_off_seconds)

else := "(not configured)"

_usable_from := timestamps.format(min({_usable_at(entry) | some entry in whitelist.matches})) if {
	count({_usable_at(entry) | some entry in whitelist.matches}) > 0
} else := "(unknown: malformed whitelist entry or cooling-off setting)"
