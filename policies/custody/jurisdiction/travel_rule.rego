# METADATA
# title: Travel rule per jurisdiction
# description: |
#   FATF Recommendation 16 as the account's jurisdiction pack implements it: when the pack
#   requires it (travel_rule.required), the transfer is in scope (scope all: every transfer;
#   scope vasp: every transfer whose beneficiary is not known to be an unhosted wallet) and
#   the amount is at or over the threshold (min_amount.<SYM>, else min_amount["*"], else
#   from the first unit), the request must carry complete originator and beneficiary data
#   in input.travel_rule (originator_name, originator_account, beneficiary_name,
#   beneficiary_account; beneficiary_vasp empty = unhosted wallet). Data that is absent is
#   treated as missing, and a request without input.travel_rule is in scope: fail closed.
package custody.jurisdiction.travel_rule

import data.custody.jurisdiction.pack
import data.custody.lib.amounts

fields := ["beneficiary_account", "beneficiary_name", "originator_account", "originator_name"]

# METADATA
# title: Travel rule data missing
# description: The jurisdiction requires originator/beneficiary data for this transfer and some is missing.
# custom:
#   code: travel_rule_info_missing
#   controls: [C-8.3.4-d]
deny contains reason if {
	required
	count(missing) > 0
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"jurisdiction ", pack.code, " requires travel-rule data for ", input.asset, " transfers of ",
			threshold, " base units or more; missing: ", concat(", ", sort(missing)),
		]),
	}
}

# required holds when this transfer needs complete travel-rule data.
required if {
	pack.pack.travel_rule.required == true
	_in_scope
	amounts.at_least(input.amount, threshold)
}

threshold := t if {
	t := pack.pack.travel_rule.min_amount[input.asset]
} else := t if {
	t := pack.pack.travel_rule.min_amount["*"]
} else := "1"

# missing is the set of travel-rule fields that are absent or blank.
missing contains field if {
	some field in fields
	not _filled(field)
}

_in_scope if pack.pack.travel_rule.scope == "all"

_in_scope if {
	pack.pack.travel_rule.scope == "vasp"
	not _unhosted
}

# _unhosted: the request says the beneficiary is not a VASP (an empty beneficiary_vasp).
_unhosted if input.travel_rule.beneficiary_vasp == ""

_filled(field) if {
	value := input.travel_rule[field]
	is_string(value)
	trim_space(value) != ""
}
