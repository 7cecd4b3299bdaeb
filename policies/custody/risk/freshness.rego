# METADATA
# title: Fresh risk assessment
# description: |
#   A decision uses a screening result at most max_assessment_age_seconds old (risk.json)
#   and never one from the future: a stale screening fails closed.
package custody.risk.freshness

import data.custody.lib.timestamps

# METADATA
# title: Stale risk assessment
# description: The risk assessment is older than allowed, from the future, or the age limit is not configured.
# custom:
#   code: risk_assessment_stale
#   controls: [C-8.3.4-b]
deny contains reason if {
	not _fresh
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"risk assessment of ", input.risk.assessed_at, " is not within ",
			_max_age_text, " seconds before ", input.now,
		]),
	}
}

_fresh if {
	age := timestamps.epoch_seconds(input.now) - timestamps.epoch_seconds(input.risk.assessed_at)
	age >= 0
	is_number(data.risk.max_assessment_age_seconds)
	age <= data.risk.max_assessment_age_seconds
}

_max_age_text := format_int(data.risk.max_assessment_age_seconds, 10) if {
	is_number(data.risk.max_assessment_age_seconds)
} else := "(not configured)"
