# METADATA
# title: Destination whitelist per account
# description: |
#   Withdrawals go only to addresses on the account's whitelist for the asset
#   (whitelists.json). Address and tag must match exactly; an entry without a tag
#   matches only a destination without a tag.
package custody.destinations.whitelist

# METADATA
# title: Destination not whitelisted
# description: No whitelist entry of the account and asset matches the destination.
# custom:
#   code: destination_not_whitelisted
#   controls: [C-8.2.2.5-c]
deny contains reason if {
	count(matches) == 0
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"destination ", input.destination.address, _tag_text, " is not on the ",
			input.asset, " whitelist of account ", input.account.id,
		]),
	}
}

# matches is the set of whitelist entries equal to the destination.
matches contains entry if {
	some entry in data.whitelists.accounts[input.account.id][input.asset]
	entry.address == input.destination.address
	object.get(entry, "tag", "") == object.get(input.destination, "tag", "")
}

_tag_text := concat("", [" (tag ", input.destination.tag, ")"]) if is_string(input.destination.tag)

else := ""
