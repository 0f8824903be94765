"""The part of the official OpenAI chat-completions request schema (CreateChatCompletionRequest, POST
/v1/chat/completions) that Leitplanke's client may use, as JSON Schema. The top level lists the known
request keys with additionalProperties false, so a non-standard key fails; text messages only."""
import jsonschema

_NUMBER_0_2 = {"type": "number", "minimum": 0, "maximum": 2}
_PENALTY = {"type": "number", "minimum": -2, "maximum": 2}


def _message(role: str) -> dict:
    return {"type": "object", "required": ["role", "content"], "additionalProperties": False,
            "properties": {"role": {"const": role}, "content": {"type": "string"}, "name": {"type": "string"}}}


CHAT_COMPLETION_REQUEST = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["model", "messages"],
    "additionalProperties": False,
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "messages": {"type": "array", "minItems": 1,
                     "items": {"oneOf": [_message("system"), _message("developer"), _message("user"),
                                         _message("assistant")]}},
        "temperature": _NUMBER_0_2,
        "top_p": {"type": "number", "minimum": 0, "maximum": 1},
        "n": {"type": "integer", "minimum": 1, "maximum": 128},
        "stream": {"type": "boolean"},
        "stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 4},
                           {"type": "null"}]},
        "max_tokens": {"type": "integer", "minimum": 1},
        "max_completion_tokens": {"type": "integer", "minimum": 1},
        "presence_penalty": _PENALTY,
        "frequency_penalty": _PENALTY,
        "logit_bias": {"type": "object", "additionalProperties": {"type": "integer"}},
        "logprobs": {"type": "boolean"},
        "top_logprobs": {"type": "integer", "minimum": 0, "maximum": 20},
        "user": {"type": "string"},
        "seed": {"type": "integer"},
        "response_format": {"oneOf": [
            {"type": "object", "required": ["type"], "additionalProperties": False,
             "properties": {"type": {"const": "text"}}},
            {"type": "object", "required": ["type"], "additionalProperties": False,
             "properties": {"type": {"const": "json_object"}}},
            {"type": "object", "required": ["type", "json_schema"], "additionalProperties": False,
             "properties": {"type": {"const": "json_schema"}, "json_schema": {"type": "object", "required": ["name"]}}},
        ]},
        # Known keys of the official schema the client never sends; listed so the top level is complete.
        "store": {"type": "boolean"}, "metadata": {"type": "object"}, "modalities": {"type": "array"},
        "reasoning_effort": {"type": "string"}, "service_tier": {"type": "string"},
        "prediction": {"type": "object"}, "audio": {"type": "object"}, "stream_options": {"type": "object"},
        "tools": {"type": "array"}, "tool_choice": {}, "parallel_tool_calls": {"type": "boolean"},
        "web_search_options": {"type": "object"}, "safety_identifier": {"type": "string"},
        "prompt_cache_key": {"type": "string"}, "verbosity": {"type": "string"},
    },
    # top_logprobs only together with logprobs: true
    "dependentSchemas": {"top_logprobs": {"required": ["logprobs"], "properties": {"logprobs": {"const": True}}}},
}

VALIDATOR = jsonschema.Draft202012Validator(CHAT_COMPLETION_REQUEST)


def request_problems(body) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in VALIDATOR.iter_errors(body)]
