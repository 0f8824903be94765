"""The model's answer: parsed and validated against the prompt version's output schema; a confidence
from the log-probabilities of its tokens when the provider returned them."""
import json
import math

import jsonschema

REPAIR_INSTRUCTION = ("Your previous answer was not valid: {error}\n"
                      "Answer again with one JSON object only, conforming to the JSON Schema given before.")


def parse_answer(content: str, schema: dict) -> tuple[dict | None, str]:
    """(data, "") for a valid answer, (None, what is wrong) otherwise."""
    text = content.strip()
    if text.startswith("```"):  # some models fence JSON even in JSON mode
        text = text.strip("`")
        text = text[4:] if text.lower().startswith("json") else text
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not JSON ({exc.msg} at position {exc.pos})"
    if not isinstance(data, dict):
        return None, "not a JSON object"
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(top level)"
        return None, f"{where}: {first.message}"[:500]
    return data, ""


def logprob_confidence(token_logprobs: list[float] | None) -> float | None:
    """exp(mean log-probability) of the answer's tokens: the geometric mean of their probabilities."""
    if not token_logprobs:
        return None
    mean = sum(token_logprobs) / len(token_logprobs)
    return max(0.0, min(1.0, math.exp(mean)))


def same(a, b) -> bool:
    """Self-consistency: two samples agree on a field when their values are equal (strings compared
    without surrounding whitespace and case)."""
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().casefold() == b.strip().casefold()
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
