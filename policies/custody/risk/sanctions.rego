# METADATA
# title: Sanctions screening
# description: A destination or counterparty on a sanctions list is denied, whatever the verdict says.
package custody.risk.sanctions

# METADATA
# title: Sanctions hit
# description: Screening matched a sanctions list; anything but an explicit false denies.
# custom:
#   code: risk_sanctioned
#   controls: [C-8.3.4-b]
deny contains reason if {
	not _clear
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": "screening matched a sanctions list",
	}
}

_clear if input.risk.sanctions_hit == false
