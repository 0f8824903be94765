"""The models of the `automations` app, defined by concept in its packages (registry, execution, training,
documents, evaluation) and gathered here, where Django loads them; all keep the app label `automations`."""
from automations.connectors.models import ConnectorCircuit, ConnectorSecret, Delivery, DeliveryAttempt
from automations.documents.models import DocumentPage, ItemDocument
from automations.evaluation.models import EvaluationResult, EvaluationRun, QualityTestCase
from automations.execution.models.llm_calls import LlmCall
from automations.execution.models.work import (
    Escalation,
    MasterRecord,
    ResultAcknowledgement,
    Run,
    StepRun,
    Suggestion,
    WorkItem,
    WorkItemFile,
)
from automations.quality.models import QualityBreaker, ThresholdBacktest, UseCaseReview
from automations.registry.models.catalogue import CatalogueEntry
from automations.registry.models.changes import Approval, ChangeRequest
from automations.registry.models.processors import ProcessorCircuit, ProcessorSecret
from automations.registry.models.use_cases import TenantPolicy, UseCase
from automations.registry.models.versions import (
    VERSION_MODELS,
    EngineConfigVersion,
    GuardrailSetVersion,
    PromptTemplateVersion,
    Release,
    ReleaseLabel,
    ThresholdSetVersion,
)
from automations.training.models import ClassifierVersion, LabelledExample

__all__ = [
    "VERSION_MODELS",
    "Approval",
    "CatalogueEntry",
    "ChangeRequest",
    "ClassifierVersion",
    "ConnectorCircuit",
    "ConnectorSecret",
    "Delivery",
    "DeliveryAttempt",
    "DocumentPage",
    "EngineConfigVersion",
    "Escalation",
    "EvaluationResult",
    "EvaluationRun",
    "GuardrailSetVersion",
    "ItemDocument",
    "LabelledExample",
    "LlmCall",
    "MasterRecord",
    "ProcessorCircuit",
    "ProcessorSecret",
    "PromptTemplateVersion",
    "QualityBreaker",
    "QualityTestCase",
    "Release",
    "ReleaseLabel",
    "ResultAcknowledgement",
    "Run",
    "StepRun",
    "Suggestion",
    "TenantPolicy",
    "ThresholdBacktest",
    "ThresholdSetVersion",
    "UseCase",
    "UseCaseReview",
    "WorkItem",
    "WorkItemFile",
]
