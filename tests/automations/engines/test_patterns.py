"""automations.engines.patterns: the e-mail pattern finds exactly what the plain pattern finds, in linear time;
configured patterns run on RE2 with Python's Unicode classes and are refused with the reason where RE2 cannot run
them."""
import random
import re

import pytest

from automations.engines import patterns
from tests.linear_time import assert_linear

PLAIN_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def test_email_matches_exactly_what_the_plain_pattern_matches():
    rng = random.Random(7)
    alphabet = "ab.+-@ _ü1"
    for _ in range(50000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert [m.span() for m in patterns.EMAIL.finditer(text)] == [m.span() for m in PLAIN_EMAIL.finditer(text)]
        assert patterns.EMAIL.sub(" x ", text) == PLAIN_EMAIL.sub(" x ", text), text
        assert bool(patterns.EMAIL.search(text)) == bool(PLAIN_EMAIL.search(text)), text
        assert bool(patterns.EMAIL.fullmatch(text)) == bool(PLAIN_EMAIL.fullmatch(text)), text


def test_a_match_that_begins_where_the_previous_one_ended_is_found():
    # After "a@b.c" the plain pattern finds "+d@e.f" right where the first match ended, inside the run.
    assert [m.group() for m in patterns.EMAIL.finditer("a@b.c+d@e.f")] == ["a@b.c", "+d@e.f"]
    assert patterns.EMAIL.sub("X", "a@b.c..x@d.e") == "XX"


def test_email_grows_linearly():
    units = ["a", "a.", "a@", "a@a.", "a.a@", "a+", "a@b.c+", "-", "1"]
    assert_linear(lambda text: patterns.EMAIL.sub("x", text), units, label="EMAIL.sub")
    assert_linear(lambda text: list(patterns.EMAIL.finditer(text)), units, label="EMAIL.finditer")
    assert_linear(patterns.EMAIL.search, units, label="EMAIL.search")
    assert_linear(patterns.EMAIL.fullmatch, units, label="EMAIL.fullmatch")


def test_configured_patterns_keep_pythons_unicode_classes():
    assert patterns.user_pattern(r"[\w ]+").fullmatch("Müller Straße")
    assert patterns.user_pattern(r"\d{5}").fullmatch("١٢٣٤٥")
    assert patterns.user_pattern(r"verbindlich\s+zugesagt").search("verbindlich\u00a0zugesagt")
    assert not patterns.user_pattern(r"\W").search("ü")
    assert patterns.user_pattern(r"[^\s]+").fullmatch("Grüße")
    assert patterns.user_pattern("rechnung", ignore_case=True).search("RECHNUNG")
    assert patterns.user_pattern("^RE-1$", multiline=True).search("Betreff\nRE-1\n")


def test_configured_patterns_run_in_linear_time_even_where_pythons_engine_would_not():
    slow_in_python = patterns.user_pattern(r"\s*,\s*x")
    assert_linear(slow_in_python.search, [" ", "a "], label=r"\s*,\s*x")
    exponential_in_python = patterns.user_pattern(r"(a+)+$")
    assert_linear(exponential_in_python.search, ["a" * 30 + "b"], label="(a+)+$")


@pytest.mark.parametrize("pattern", [r"(?<!a)b", r"(a)\1", r"x(?=y)", "(", ""])
def test_patterns_re2_cannot_run_are_refused_with_the_reason(pattern):
    with pytest.raises(patterns.UnsafePattern):
        patterns.check_user_pattern(pattern)
