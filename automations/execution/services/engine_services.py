"""What the pipeline gives an engine along with an item (automations.engines.base.EngineServices): the records
it needs, read tenant-scoped, and its provider calls made and recorded here. Engines themselves import no
models, services or selectors."""
from audit.actors import SYSTEM
from automations.execution.services import llm_calls
from automations.registry.models.versions import PromptTemplateVersion
from automations.registry.services.processors import processor_get
from automations.training.selectors import classifier_version_get
from automations.training.services import classifier_load


class EngineServicesForItem:
    """EngineServices for one item of one use case (and, for language model calls, the item they belong to)."""

    def __init__(self, *, use_case, item_id=None, actor=SYSTEM):
        self._use_case = use_case
        self._item_id = item_id
        self._actor = actor

    def use_case(self):
        return self._use_case

    def classifier(self, *, artifact_ref: str) -> tuple:
        version = classifier_version_get(tenant=self._use_case.tenant_id, pk=int(artifact_ref))
        return version, classifier_load(version=version)

    def prompt_version(self, *, parameters: dict):
        """The approved (submitted) prompt version the engine configuration pins, else the release's."""
        versions = PromptTemplateVersion.objects.for_tenant(self._use_case.tenant).filter(
            use_case=self._use_case, submitted_at__isnull=False)
        if parameters.get("prompt_template_version"):
            return versions.filter(number=parameters["prompt_template_version"]).first()
        if parameters.get("prompt_template_id"):
            return versions.filter(pk=parameters["prompt_template_id"]).first()
        return None

    def processor(self, *, key: str):
        return processor_get(tenant=self._use_case.tenant, key=key)

    def provider_call(self, *, entry, body: dict, version, prompt_hash: str, stored_text: str, purpose: str):
        return llm_calls.provider_call(entry=entry, body=body, use_case=self._use_case, version=version,
                                       item_id=self._item_id, actor=self._actor, prompt_hash=prompt_hash,
                                       stored_text=stored_text, purpose=purpose)
