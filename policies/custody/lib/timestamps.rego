# METADATA
# title: Canonical UTC timestamps without the time.* builtins
# description: |
#   opa-wasm implements no time parsing builtin, so timestamps are handled here with
#   integer arithmetic only. Every timestamp in input and data is canonical RFC 3339 in
#   UTC with second precision, "YYYY-MM-DDTHH:MM:SSZ", between 1970 and 9999; the
#   service normalises its clock to that form. Conversions use the civil-from-days
#   algorithms of H. Hinnant (proleptic Gregorian calendar). A timestamp is valid only
#   if it converts to seconds and back to the identical string, which rejects 2025-02-29,
#   24:00:00, offsets and fractions.
package custody.lib.timestamps

_pattern := `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$`

# valid(ts) holds for a canonical timestamp.
valid(ts) if {
	_ := epoch_seconds(ts)
}

# epoch_seconds(ts) is the number of seconds since 1970-01-01T00:00:00Z.
epoch_seconds(ts) := seconds if {
	seconds := _parse(ts)
	format(seconds) == ts
}

# format(seconds) is the canonical timestamp of a whole number of seconds since the epoch.
format(seconds) := ts if {
	is_number(seconds)
	seconds >= 0
	floor(seconds) == seconds
	days := floor(seconds / 86400)
	rest := seconds - (days * 86400)
	[y, m, d] := _civil_from_days(days)
	y <= 9999
	hh := floor(rest / 3600)
	mm := floor((rest - (hh * 3600)) / 60)
	ss := (rest - (hh * 3600)) - (mm * 60)
	ts := concat("", [
		_pad(y, 4), "-", _pad(m, 2), "-", _pad(d, 2),
		"T", _pad(hh, 2), ":", _pad(mm, 2), ":", _pad(ss, 2), "Z",
	])
}

# time_of_day(ts) is the "HH:MM" part of a canonical timestamp (UTC).
time_of_day(ts) := substring(ts, 11, 5) if valid(ts)

# is_time_of_day(s) holds for a 24-hour "HH:MM" string.
is_time_of_day(s) if {
	is_string(s)
	regex.match(`^([01][0-9]|2[0-3]):[0-5][0-9]$`, s)
}

_parse(ts) := seconds if {
	is_string(ts)
	regex.match(_pattern, ts)
	y := _int(substring(ts, 0, 4))
	m := _int(substring(ts, 5, 2))
	d := _int(substring(ts, 8, 2))
	hh := _int(substring(ts, 11, 2))
	mm := _int(substring(ts, 14, 2))
	ss := _int(substring(ts, 17, 2))
	y >= 1970
	m >= 1
	m <= 12
	d >= 1
	d <= 31
	hh <= 23
	mm <= 59
	ss <= 59
	seconds := (((_days_from_civil(y, m, d) * 86400) + (hh * 3600)) + (mm * 60)) + ss
}

# to_number refuses leading zeros ("08"), so strip them first.
_int(digits) := 0 if {
	trim_left(digits, "0") == ""
} else := to_number(trim_left(digits, "0"))

_days_from_civil(year, m, d) := days if {
	y := year - _jan_or_feb(m)
	era := floor(y / 400)
	yoe := y - (era * 400)
	doy := (floor(((153 * _march_based(m)) + 2) / 5) + d) - 1
	doe := (((yoe * 365) + floor(yoe / 4)) - floor(yoe / 100)) + doy
	days := ((era * 146097) + doe) - 719468
}

_civil_from_days(days) := [y, m, d] if {
	z := days + 719468
	era := floor(z / 146097)
	doe := z - (era * 146097)
	yoe := floor((((doe - floor(doe / 1460)) + floor(doe / 36524)) - floor(doe / 146096)) / 365)
	doy := doe - (((365 * yoe) + floor(yoe / 4)) - floor(yoe / 100))
	mp := floor(((5 * doy) + 2) / 153)
	d := (doy - floor(((153 * mp) + 2) / 5)) + 1
	m := _civil_month(mp)
	y := ((era * 400) + yoe) + _jan_or_feb(m)
}

_jan_or_feb(m) := 1 if m <= 2

else := 0

_march_based(m) := m - 3 if m > 2

else := m + 9

_civil_month(mp) := mp + 3 if mp < 10

else := mp - 9

_pad(n, width) := concat("", [substring("0000", 0, width - count(s)), s]) if {
	s := format_int(n, 10)
	count(s) <= width
}
