# METADATA
# title: Risk score thresholds
# description: |
#   The risk score (0..100) is compared with risk.json: above deny_score_above denies,
#   above review_score_above needs a compliance review. A missing threshold counts as
#   exceeded.
package custody.risk.score

# METADATA
# title: Risk score above the deny threshold
# description: The score is above deny_score_above (or that threshold is not configured).
# custom:
#   code: risk_score_above_threshold
#   controls: [C-8.3.4-b]
deny contains reason if {
	not _at_or_below_deny_threshold
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"risk score ", format_int(input.risk.score, 10),
			" is above the deny threshold ", _deny_threshold_text,
		]),
	}
}

# METADATA
# title: Risk score needs review
# description: The score is above review_score_above but not above deny_score_above.
# custom:
#   code: risk_score_review
#   controls: [C-8.3.4-b]
require contains requirement if {
	_at_or_below_deny_threshold
	not _at_or_below_review_threshold
	requirement := {
		"code": rego.metadata.rule().custom.code,
		"detail": concat("", [
			"risk score ", format_int(input.risk.score, 10),
			" is above the review threshold ", _review_threshold_text,
		]),
		"tier": "review",
	}
}

_at_or_below_deny_threshold if {
	is_number(data.risk.deny_score_above)
	input.risk.score <= data.risk.deny_score_above
}

_at_or_below_review_threshold if {
	is_number(data.risk.review_score_above)
	input.risk.score <= data.risk.review_score_above
}

# Texts are rules, not functions over data: a function called with an undefined
# argument is undefined, which would silently drop the deny.
_deny_threshold_text := format_int(data.risk.deny_score_above, 10) if {
	is_number(data.risk.deny_score_above)
} else := "(not configured)"

_review_threshold_text := format_int(data.risk.review_score_above, 10) if {
	is_number(data.risk.review_score_above)
} else := "(not configured)"
