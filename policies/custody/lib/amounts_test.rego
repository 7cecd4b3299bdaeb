package custody.lib.amounts_test

import data.custody.lib.amounts

# 2^53 + 1 and neighbours: a float comparison would call these equal.
two_53_plus_1 := "9007199254740993"

two_53_plus_2 := "9007199254740994"

uint256_max := "115792089237316195423570985008687907853269984665640564039457584007913129639935"

test_is_amount_accepts_digits if {
	amounts.is_amount("0")
	amounts.is_amount("000123")
	amounts.is_amount(uint256_max)
}

test_is_amount_refuses_non_digits if {
	not amounts.is_amount("")
	not amounts.is_amount("-1")
	not amounts.is_amount("1.5")
	not amounts.is_amount("1e18")
	not amounts.is_amount(" 12")
	not amounts.is_amount("0x10")
	not amounts.is_amount(12)
	not amounts.is_amount(null)
}

test_is_amount_refuses_more_than_78_digits if {
	not amounts.is_amount(concat("", [uint256_max, "0"]))
}

test_is_positive if {
	amounts.is_positive("1")
	amounts.is_positive("0001")
	not amounts.is_positive("0")
	not amounts.is_positive("0000")
}

test_normalize_strips_leading_zeros if {
	amounts.normalize("000") == "0"
	amounts.normalize("0") == "0"
	amounts.normalize("00120") == "120"
	amounts.normalize("120") == "120"
}

test_compare_by_length_first if {
	amounts.compare("9", "10") == -1
	amounts.compare("10", "9") == 1
	amounts.compare("100000000000000000000", "99999999999999999999") == 1
}

test_compare_equal_length_lexicographic if {
	amounts.compare("123", "124") == -1
	amounts.compare("124", "123") == 1
	amounts.compare("123", "123") == 0
}

test_compare_ignores_leading_zeros if {
	amounts.compare("00010", "9") == 1
	amounts.compare("0009", "10") == -1
	amounts.compare("000", "0") == 0
}

test_compare_is_exact_beyond_2_53 if {
	amounts.compare(two_53_plus_1, two_53_plus_2) == -1
	amounts.less_than(two_53_plus_1, two_53_plus_2)
	not amounts.equals(two_53_plus_1, two_53_plus_2)
	amounts.compare(uint256_max, "115792089237316195423570985008687907853269984665640564039457584007913129639934") == 1
}

test_compare_undefined_for_non_amounts if {
	not amounts.compare("1.0", "1")
	not amounts.compare("1", 1)
	not amounts.greater_than("abc", "1")
	not amounts.at_least("1", "")
}

test_predicates if {
	amounts.greater_than("2", "1")
	not amounts.greater_than("1", "1")
	amounts.at_least("1", "1")
	amounts.at_least("2", "1")
	not amounts.at_least("1", "2")
	amounts.less_than("1", "2")
	not amounts.less_than("2", "2")
	amounts.equals("01", "1")
}
