"""Patterns of personal data in free text, shared by the engines (masking a prompt or the classifier's text)
and the pipeline (validation, guardrails). Regular expressions that run on input — payloads, the text of
documents, generated answers — take time linear in the input's length.

Python's backtracking engine turns quadratic on a pattern such as `[\\w.+-]+@…` when a long run of the
leading character class holds no `@`: it starts a match at every position of the run and scans the rest of
the run from each (0.4 s on 10,000 characters, 28 s on 80,000). The forms here start a match only where such
a run begins (a look-behind) and never give back what a run consumed (possessive quantifiers), so that every
character is looked at a bounded number of times. `RunPattern` keeps the matches exactly those of the plain
pattern, including a match that begins right where the previous one ended inside a run.

Patterns that people configure (guardrails, rules, field validation) are compiled by `user_pattern`: RE2,
which matches in linear time whatever the pattern."""
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _


class RunPattern:
    """A pattern whose every match begins with a run of one character class (`run_class`, the class of the
    pattern's first, possessive quantifier) and continues with a character outside it. All positions of
    one run then end the same way, so a match is searched for only where a run begins — and, after a
    match, where it ended, if that is inside a run: the plain pattern looks there first.

    `resume_hint` finds every place where a match could end inside a run and another begin there; where
    it finds none, the look-behind form alone gives the plain pattern's matches (and runs in C).

    Offers the `re.Pattern` methods the code base uses: search, finditer, sub, fullmatch."""

    def __init__(self, anchored: str, run_class: str, *, resume_hint: str, flags: int = 0):
        self.pattern = anchored
        self._anchored = re.compile(anchored, flags)
        self._search = re.compile(f"(?<!{run_class})(?:{anchored})", flags)
        self._run_char = re.compile(run_class, flags)
        self._resume_hint = re.compile(resume_hint, flags)

    def search(self, text: str, pos: int = 0) -> re.Match | None:
        return self._search.search(text, pos)

    def fullmatch(self, text: str) -> re.Match | None:
        return self._anchored.fullmatch(text)

    def finditer(self, text: str) -> Iterator[re.Match]:
        if not self._resume_hint.search(text):
            return self._search.finditer(text)
        return self._finditer_resuming(text)

    def _finditer_resuming(self, text: str) -> Iterator[re.Match]:
        pos, resumed = 0, False
        in_run, anchored, search = self._run_char.match, self._anchored.match, self._search.search
        while True:
            match = None
            # Right after a match inside a run, the look-behind would hide a match that begins here.
            if resumed and 0 < pos < len(text) and in_run(text, pos - 1) and in_run(text, pos):
                match = anchored(text, pos)
            if match is None:
                match = search(text, pos)
                if match is None:
                    return
            yield match
            pos, resumed = max(match.end(), match.start() + 1), True

    def sub(self, repl: str | Callable[[re.Match], str], text: str) -> str:
        if not self._resume_hint.search(text):
            return self._search.sub(repl if callable(repl) else repl.replace("\\", "\\\\"), text)
        parts, last = [], 0
        for match in self._finditer_resuming(text):
            parts.append(text[last:match.start()])
            parts.append(repl(match) if callable(repl) else repl)
            last = match.end()
        parts.append(text[last:])
        return "".join(parts)


# An e-mail address as people write it: local part, @, a domain with at least one dot.
# A phone number: a digit or "+" no word character precedes, digits and separators, a digit at the end.
PHONE = re.compile(r"(?<!\w)(\+?\d[\d /()-]{7,}\d)(?!\w)")
# An IBAN as written in text (groups of four); bounded repetitions.
IBAN_TEXT = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){3,7}(?:\s?[A-Z0-9]{1,3})?\b")

# A match ends after a domain label ([\w-]); inside the run it can only be followed by "." or "+", and a new
# match can begin at that "." only if "." or "+" or "@" comes next (a label would have continued the domain).
EMAIL = RunPattern(r"[\w.+-]++@[\w-]++(?:\.[\w-]++)+", r"[\w.+-]", resume_hint=r"[\w-](?:\.[.+@]|\+)")


class UnsafePattern(ValueError):
    """A configured pattern that cannot be matched in linear time (look-around, back-references) or is
    not a valid regular expression."""


# RE2's \w, \d and \s know only ASCII; Python's (and so what people expect of "Müller" or "١٢") know Unicode.
# Inside a character class the positive forms are written out; outside, the negated ones too.
_IN_CLASS = {"w": r"\p{L}\p{N}_", "d": r"\p{Nd}", "s": r"\s\p{Z}\x{85}\x{1c}-\x{1f}\x{0b}"}
_OUTSIDE = {"w": f"[{_IN_CLASS['w']}]", "W": f"[^{_IN_CLASS['w']}]", "d": r"\p{Nd}", "D": r"\P{Nd}",
            "s": f"[{_IN_CLASS['s']}]", "S": f"[^{_IN_CLASS['s']}]"}


def _unicode_classes(pattern: str) -> str:
    out, in_class, i = [], False, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            escaped = pattern[i + 1]
            table = _IN_CLASS if in_class else _OUTSIDE
            out.append(table.get(escaped, char + escaped))
            i += 2
            continue
        if char == "[" and not in_class:
            in_class = True
            out.append(char)
            # "[]" or "[^]": a "]" right after the opening bracket is a literal.
            if pattern[i + 1:i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1:i + 2] == "]":
                out.append("]")
                i += 1
        elif char == "]" and in_class:
            in_class = False
            out.append(char)
        else:
            out.append(char)
        i += 1
    return "".join(out)


@lru_cache(maxsize=512)
def user_pattern(pattern: str, *, ignore_case: bool = False, multiline: bool = False) -> Any:
    """A pattern someone configured, compiled by RE2 (linear time) with Python's Unicode meaning of the word,
    digit and space classes. Raises UnsafePattern with the reason. (A word boundary stays RE2's: between
    ASCII letters.)"""
    import re2

    options = re2.Options()
    options.log_errors = False
    flags = ("i" if ignore_case else "") + ("m" if multiline else "")
    translated = _unicode_classes(pattern)
    try:
        return re2.compile(f"(?{flags}){translated}" if flags else translated, options)
    except re2.error as exc:
        detail = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise UnsafePattern(_("The pattern %(p)s cannot be used: %(e)s. Patterns run in linear time, so "
                              "look-around (?=, ?!, ?<=, ?<!) and back-references are not available.")
                            % {"p": pattern, "e": detail}) from None


def check_user_pattern(pattern) -> None:
    """For the services that store configured patterns: raises UnsafePattern for one that cannot be used."""
    if not isinstance(pattern, str) or not pattern:
        raise UnsafePattern(_("A pattern must be a non-empty text."))
    user_pattern(pattern)
