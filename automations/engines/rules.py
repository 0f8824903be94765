"""Keyword and pattern rules per category with weights. The confidence grows with the weight of the
matched rules and shrinks with competing categories; the explanation names the matched rules.

Parameters (per release, in the engine configuration):
    {"field": "document_class", "default": "other",
     "rules": [{"category": "invoice", "name": "Rechnung", "keywords": ["rechnung"], "patterns": ["RE-\\d+"],
                "weight": 2.0}, ...],
     "text_fields": ["subject", "body"]}
"""
import unicodedata

from django.utils.translation import gettext as _

from automations.engines import patterns
from automations.engines.base import EngineInput, EngineResult, FieldSuggestion, register_engine
from automations.engines.text import TextTooLong, item_text

# A single weak match is not certainty: this much unexplained mass stays with "something else".
PRIOR_MASS = 1.0


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _pattern_hit(pattern: str, text: str) -> bool:
    try:
        return bool(patterns.user_pattern(pattern, ignore_case=True, multiline=True).search(text))
    except patterns.UnsafePattern:
        return False  # reported by unusable_patterns(); the other rules still count


def unusable_patterns(rules: list[dict]) -> list[str]:
    """Why configured patterns cannot be used (stored before they were checked on saving)."""
    reasons = []
    for rule in rules:
        for pattern in rule.get("patterns", []):
            try:
                patterns.user_pattern(pattern, ignore_case=True, multiline=True)
            except patterns.UnsafePattern as exc:
                reasons.append(str(exc))
    return reasons


def evaluate_rules(text: str, rules: list[dict]) -> dict[str, tuple[float, list[str]]]:
    """Per category: (score, names of matched rules). Patterns run on RE2: linear in the text's length."""
    normalised = _normalise(text)
    scores: dict[str, tuple[float, list[str]]] = {}
    for rule in rules:
        hits = [k for k in rule.get("keywords", []) if _normalise(k) in normalised]
        hits += [p for p in rule.get("patterns", []) if _pattern_hit(p, text)]
        if not hits:
            continue
        score, names = scores.get(rule["category"], (0.0, []))
        label = rule.get("name") or rule["category"]
        scores[rule["category"]] = (score + float(rule.get("weight", 1.0)), names + [f"{label} ({', '.join(hits)})"])
    return scores


@register_engine("rules")
class RulesEngine:
    key = "rules"

    def suggest(self, item: EngineInput, *, parameters: dict, artifact_ref: str = "") -> EngineResult:
        field = parameters.get("field") or (item.output_fields[0]["name"] if item.output_fields else "category")
        try:
            text = item_text(item, parameters.get("text_fields"))
        except TextTooLong as exc:
            return EngineResult(reasons=[str(exc)], needs_clarification=True)
        if not text.strip():
            return EngineResult(reasons=[_("No readable text for the rules.")], needs_clarification=True)
        rules = parameters.get("rules", [])
        result = self._result(field, evaluate_rules(text, rules), parameters)
        # A reason keeps the item from being applied automatically on rules that were not all evaluated.
        result.reasons.extend(unusable_patterns(rules))
        return result

    def _result(self, field: str, scores: dict, parameters: dict) -> EngineResult:
        if not scores:
            default = parameters.get("default")
            if default is None:
                return EngineResult(reasons=[_("No rule matched.")])
            return EngineResult(suggestions=[FieldSuggestion(
                field=field, value=default, confidence=0.2, engine=self.key,
                explanation=_("No rule matched; the default category is suggested."))])
        ranked = sorted(scores.items(), key=lambda kv: -kv[1][0])
        best, (best_score, matched) = ranked[0]
        total = sum(score for score, _names in scores.values())
        confidence = best_score / (total + PRIOR_MASS)
        explanation = _("Matched rules: %(rules)s") % {"rules": "; ".join(matched)}
        if len(ranked) > 1:
            explanation += " · " + _("also matched: %(others)s") % {
                "others": ", ".join(f"{c} ({s:g})" for c, (s, _n) in ranked[1:])}
        return EngineResult(suggestions=[FieldSuggestion(field=field, value=best, confidence=round(confidence, 4),
                                                         engine=self.key, explanation=explanation)])
