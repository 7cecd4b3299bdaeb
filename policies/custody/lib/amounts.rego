# METADATA
# title: Exact base-unit amount arithmetic on decimal strings
# description: |
#   Amounts are non-negative integers in base units (satoshi, wei, ...) carried as decimal
#   strings, because they exceed 2^53 and must never pass through a float. Values are
#   compared exactly: strip leading zeros, then the longer string is the larger number,
#   and strings of equal length compare lexicographically. No to_number anywhere.
package custody.lib.amounts

# Longest accepted amount: 78 digits holds every uint256.
max_digits := 78

# is_amount(s) holds when s is a decimal string of 1..78 ASCII digits.
is_amount(s) if {
	is_string(s)
	regex.match(`^[0-9]+$`, s)
	count(s) <= max_digits
}

# is_positive(s) holds for an amount greater than zero.
is_positive(s) if {
	is_amount(s)
	normalize(s) != "0"
}

# normalize(s) strips leading zeros; "000" becomes "0".
normalize(s) := "0" if {
	trim_left(s, "0") == ""
} else := trim_left(s, "0")

# compare(a, b) is -1, 0 or 1 as a is less than, equal to or greater than b.
compare(a, b) := _compare(normalize(a), normalize(b)) if {
	is_amount(a)
	is_amount(b)
}

_compare(x, y) := -1 if {
	count(x) < count(y)
} else := 1 if {
	count(x) > count(y)
} else := -1 if {
	x < y
} else := 1 if {
	x > y
} else := 0

greater_than(a, b) if compare(a, b) == 1

at_least(a, b) if compare(a, b) >= 0

less_than(a, b) if compare(a, b) == -1

equals(a, b) if compare(a, b) == 0
