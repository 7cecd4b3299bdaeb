# METADATA
# title: Jurisdiction pack selection
# description: |
#   Every customer account belongs to a jurisdiction whose pack (data.jurisdictions.packs)
#   adds rules on top of the global ones: permitted assets and tighter limits
#   (jurisdiction/limits.rego), travel rule (jurisdiction/travel_rule.rego). The
#   jurisdiction is input.account.jurisdiction, or data.jurisdictions.default_jurisdiction
#   when the account has none. A jurisdiction without a pack, or a pack that is not well
#   formed, is denied: fail closed.
package custody.jurisdiction.pack

import data.custody.lib.amounts

# code is the account's jurisdiction (or the default one).
code := input.account.jurisdiction if _has_jurisdiction

code := data.jurisdictions.default_jurisdiction if not _has_jurisdiction

# pack is the selected pack, defined only when it exists.
pack := data.jurisdictions.packs[code] if known

known if {
	is_string(code)
	is_object(data.jurisdictions.packs[code])
}

# METADATA
# title: Unknown jurisdiction
# description: The account's jurisdiction (or the default) has no pack in the data.
# custom:
#   code: jurisdiction_unknown
#   controls: [C-9.3.2-b]
deny contains reason if {
	not known
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", ["no jurisdiction pack for ", _code_text, " (account ", _account_text, ")"]),
	}
}

# METADATA
# title: Jurisdiction pack malformed
# description: The selected pack is not well formed; nothing it should enforce can be trusted.
# custom:
#   code: jurisdiction_pack_invalid
#   controls: [C-9.3.2-b]
deny contains reason if {
	known
	count(problems) > 0
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", ["jurisdiction pack ", code, " is malformed: ", concat("; ", sort(problems))]),
	}
}

# problems lists what is wrong with the selected pack (empty when it is well formed).
problems contains "limits: must be an object of assets" if not is_object(pack.limits)

problems contains concat("", ["limits.", symbol, ": single_max and rolling_24h_max must be positive amounts, nothing else"]) if {
	some symbol, limits in pack.limits
	not _asset_limits(limits)
}

problems contains "assets_allowed: must be an array of asset symbols when present" if {
	_present(pack, "assets_allowed")
	not _symbols(pack.assets_allowed)
}

problems contains "travel_rule.required: must be a boolean" if not is_boolean(pack.travel_rule.required)

problems contains "travel_rule.scope: must be all or vasp" if {
	pack.travel_rule.required == true
	not pack.travel_rule.scope in {"all", "vasp"}
}

problems contains "travel_rule.min_amount: must map assets (or *) to positive amounts" if {
	pack.travel_rule.required == true
	not _thresholds(pack.travel_rule.min_amount)
}

_has_jurisdiction if _present(input.account, "jurisdiction")

_code_text := code if is_string(code)

else := "a jurisdiction that is not a string"

_account_text := input.account.id if is_string(input.account.id)

else := "unknown"

_asset_limits(limits) if {
	is_object(limits)
	every key, value in limits {
		key in {"single_max", "rolling_24h_max"}
		amounts.is_positive(value)
	}
}

_symbols(list) if {
	is_array(list)
	every symbol in list {
		is_string(symbol)
	}
}

_thresholds(thresholds) if {
	is_object(thresholds)
	every _, value in thresholds {
		amounts.is_positive(value)
	}
}

# _present(obj, key) holds when obj has key, whatever its value.
_present(obj, key) if {
	is_object(obj)
	_ := obj[key]
}
