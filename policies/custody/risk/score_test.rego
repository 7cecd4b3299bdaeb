package custody.risk.score_test

import data.custody.risk.score
import data.custody.testing.fixtures_test as fx

with_score(s) := object.union(fx.retail_btc, {"risk": {"score": s}})

test_c_8_3_4_b_score_above_deny_threshold_denied if {
	reasons := score.deny with input as with_score(81)
	reasons == {{"code": "risk_score_above_threshold", "detail": "risk score 81 is above the deny threshold 80"}}
	score.require == set() with input as with_score(81)
}

test_c_8_3_4_b_score_above_review_threshold_requires_review if {
	score.deny == set() with input as with_score(80)
	reqs := score.require with input as with_score(51)
	reqs == {{"code": "risk_score_review", "detail": "risk score 51 is above the review threshold 50", "tier": "review"}}
}

test_low_score_passes if {
	score.deny == set() with input as with_score(50)
	score.require == set() with input as with_score(50)
	score.require == set() with input as with_score(0)
}

test_missing_thresholds_fail_closed if {
	reasons := score.deny with input as with_score(1) with data.risk as {}
	reasons == {{"code": "risk_score_above_threshold", "detail": "risk score 1 is above the deny threshold (not configured)"}}
	reqs := score.require with input as with_score(1) with data.risk.review_score_above as null
	fx.codes(reqs) == {"risk_score_review"}
}
