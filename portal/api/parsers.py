"""What the API reads from a JSON body beyond what JSON allows: no NUL character in any text or key (the
database cannot store one: it would end in a 500) and no nesting deeper than MAX_JSON_DEPTH levels (Python's
parser would recurse until it fails). Either is refused with 400 `parse_error` before any view runs
(DESIGN.md, API errors)."""
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from portal.problems import MAX_JSON_DEPTH, json_refusal


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing what json_refusal names."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("The JSON is nested deeper than %(n)s levels.") % {"n": MAX_JSON_DEPTH}) from None
        refusal = json_refusal(data)
        if refusal:
            raise ParseError(refusal)
        return data
