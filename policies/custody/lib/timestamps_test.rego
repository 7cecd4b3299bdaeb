package custody.lib.timestamps_test

import data.custody.lib.timestamps

# Expected values computed independently (JavaScript Date.parse).
test_epoch_seconds_known_answers if {
	timestamps.epoch_seconds("1970-01-01T00:00:00Z") == 0
	timestamps.epoch_seconds("2000-02-29T12:34:56Z") == 951827696
	timestamps.epoch_seconds("2024-12-31T23:59:59Z") == 1735689599
	timestamps.epoch_seconds("2025-06-01T00:00:00Z") == 1748736000
	timestamps.epoch_seconds("2100-03-01T00:00:00Z") == 4107542400
	timestamps.epoch_seconds("9999-12-31T23:59:59Z") == 253402300799
}

test_format_known_answers if {
	timestamps.format(0) == "1970-01-01T00:00:00Z"
	timestamps.format(951827696) == "2000-02-29T12:34:56Z"
	timestamps.format(1748736000) == "2025-06-01T00:00:00Z"
	timestamps.format(1748736000 + 86399) == "2025-06-01T23:59:59Z"
	timestamps.format(253402300799) == "9999-12-31T23:59:59Z"
}

test_format_refuses_out_of_range if {
	not timestamps.format(-1)
	not timestamps.format(1.5)
	not timestamps.format("0")
	not timestamps.format(253402300800)
}

test_round_trip_across_month_and_leap_boundaries if {
	every ts in [
		"2024-02-28T23:59:59Z", "2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z",
		"2023-02-28T23:59:59Z", "2023-03-01T00:00:00Z", "2000-12-31T23:59:59Z",
		"2001-01-01T00:00:00Z", "1999-12-31T12:00:00Z", "2038-01-19T03:14:08Z",
	] {
		timestamps.format(timestamps.epoch_seconds(ts)) == ts
	}
}

test_invalid_calendar_dates_refused if {
	not timestamps.valid("2025-02-29T00:00:00Z")
	not timestamps.valid("2024-02-30T00:00:00Z")
	not timestamps.valid("2025-04-31T00:00:00Z")
	not timestamps.valid("2025-13-01T00:00:00Z")
	not timestamps.valid("2025-00-10T00:00:00Z")
	not timestamps.valid("2025-06-00T00:00:00Z")
	not timestamps.valid("2025-06-01T24:00:00Z")
	not timestamps.valid("2025-06-01T23:60:00Z")
	not timestamps.valid("2025-06-01T23:59:60Z")
	not timestamps.valid("1969-12-31T23:59:59Z")
}

test_non_canonical_forms_refused if {
	not timestamps.valid("2025-06-01 00:00:00Z")
	not timestamps.valid("2025-06-01T00:00:00+00:00")
	not timestamps.valid("2025-06-01T00:00:00.000Z")
	not timestamps.valid("2025-06-01T00:00:00z")
	not timestamps.valid("2025-6-01T00:00:00Z")
	not timestamps.valid("")
	not timestamps.valid(1748736000)
	not timestamps.valid(null)
}

test_time_of_day if {
	timestamps.time_of_day("2025-06-01T23:45:12Z") == "23:45"
	not timestamps.time_of_day("2025-06-01T23:45:12")
	timestamps.is_time_of_day("00:00")
	timestamps.is_time_of_day("23:59")
	not timestamps.is_time_of_day("24:00")
	not timestamps.is_time_of_day("9:00")
	not timestamps.is_time_of_day(900)
}
