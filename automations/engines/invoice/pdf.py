"""The PDF reading the invoice engine uses lives with the document stage (automations.documents.pdf)."""
from automations.documents.pdf import (  # noqa: F401 - re-exported for the engine's modules
    IMAGE,
    MAX_PAGES,
    OCR,
    PDF,
    TEXT_LAYER,
    UNKNOWN,
    XML,
    Row,
    Segment,
    TextLayer,
    attachments,
    sniff,
    text_layer,
)
