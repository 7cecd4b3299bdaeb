package custody.risk.freshness_test

import data.custody.risk.freshness
import data.custody.testing.fixtures_test as fx

assessed(at) := object.union(fx.retail_btc, {"risk": {"assessed_at": at}})

test_recent_assessment_passes if {
	freshness.deny == set() with input as assessed("2025-06-02T09:58:00Z")
	freshness.deny == set() with input as assessed("2025-06-02T10:00:00Z")
	freshness.deny == set() with input as assessed("2025-06-02T09:45:00Z")
}

test_c_8_3_4_b_stale_assessment_denied if {
	reasons := freshness.deny with input as assessed("2025-06-02T09:44:59Z")
	reasons == {{
		"code": "risk_assessment_stale",
		"detail": "risk assessment of 2025-06-02T09:44:59Z is not within 900 seconds before 2025-06-02T10:00:00Z",
	}}
}

test_assessment_from_the_future_denied if {
	fx.codes(freshness.deny) == {"risk_assessment_stale"} with input as assessed("2025-06-02T10:00:01Z")
}

test_missing_age_limit_denies if {
	reasons := freshness.deny with input as fx.retail_btc with data.risk.max_assessment_age_seconds as "15m"
	reasons == {{
		"code": "risk_assessment_stale",
		"detail": "risk assessment of 2025-06-02T09:58:00Z is not within (not configured) seconds before 2025-06-02T10:00:00Z",
	}}
}
