from automations.models.catalogue import CatalogueEntry
from automations.models.changes import Approval, ChangeRequest
from automations.models.llm import LlmCall, ProcessorCircuit, ProcessorSecret
from automations.models.registry import TenantPolicy, UseCase
from automations.models.training import ClassifierVersion, LabelledExample
from automations.models.work import (
    Escalation,
    MasterRecord,
    ResultAcknowledgement,
    Run,
    StepRun,
    Suggestion,
    WorkItem,
    WorkItemFile,
)
from automations.models.versions import (
    VERSION_MODELS,
    EngineConfigVersion,
    GuardrailSetVersion,
    PromptTemplateVersion,
    Release,
    ReleaseLabel,
    ThresholdSetVersion,
)

__all__ = [
    "ClassifierVersion", "Escalation", "LabelledExample", "MasterRecord", "ResultAcknowledgement", "Run",
    "StepRun", "Suggestion", "WorkItem", "WorkItemFile",
    "Approval", "CatalogueEntry", "ChangeRequest", "EngineConfigVersion", "GuardrailSetVersion",
    "PromptTemplateVersion", "Release", "ReleaseLabel", "TenantPolicy", "ThresholdSetVersion", "UseCase",
    "VERSION_MODELS", "LlmCall", "ProcessorCircuit", "ProcessorSecret",
]
