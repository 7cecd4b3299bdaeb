package custody.risk.verdict_test

import data.custody.risk.verdict
import data.custody.testing.fixtures_test as fx

with_verdict(v) := object.union(fx.retail_btc, {"risk": {"verdict": v}})

test_c_8_3_4_b_block_verdict_denied if {
	reasons := verdict.deny with input as with_verdict("BLOCK")
	reasons == {{"code": "risk_blocked", "detail": "the risk service blocked this withdrawal"}}
	verdict.require == set() with input as with_verdict("BLOCK")
}

test_c_8_3_4_b_review_verdict_requires_compliance_review if {
	verdict.deny == set() with input as with_verdict("REVIEW")
	reqs := verdict.require with input as with_verdict("REVIEW")
	reqs == {{"code": "risk_review_required", "detail": "the risk service asks for a compliance review", "tier": "review"}}
}

test_allow_verdict_passes if {
	verdict.deny == set() with input as with_verdict("ALLOW")
	verdict.require == set() with input as with_verdict("ALLOW")
}
