# METADATA
# title: Risk verdict
# description: |
#   The risk service's verdict on the request (sanctions lists, analytics, velocity):
#   BLOCK denies; REVIEW needs a compliance approval; ALLOW passes.
package custody.risk.verdict

# METADATA
# title: Risk verdict BLOCK
# description: The risk service blocked the request.
# custom:
#   code: risk_blocked
#   controls: [C-8.3.4-b]
deny contains reason if {
	input.risk.verdict == "BLOCK"
	reason := {
		"code": rego.metadata.rule().custom.code,
		"detail": "the risk service blocked this withdrawal",
	}
}

# METADATA
# title: Risk verdict REVIEW
# description: The risk service asks for a compliance review; the review approval tier applies.
# custom:
#   code: risk_review_required
#   controls: [C-8.3.4-b]
require contains requirement if {
	input.risk.verdict == "REVIEW"
	requirement := {
		"code": rego.metadata.rule().custom.code,
		"detail": "the risk service asks for a compliance review",
		"tier": "review",
	}
}
