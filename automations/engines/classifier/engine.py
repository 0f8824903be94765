"""`classifier`: suggests category fields from a trained ClassifierVersion (artifact_ref = its id)."""
from django.utils.translation import gettext as _

from automations.engines.base import EngineInput, EngineResult, FieldSuggestion, register_engine
from automations.engines.classifier.training import predict


@register_engine("classifier")
class ClassifierEngine:
    key = "classifier"

    def suggest(self, item: EngineInput, *, parameters: dict, artifact_ref: str = "") -> EngineResult:
        if not str(artifact_ref).strip().isdigit():
            raise ValueError(_("The classifier engine needs the id of a classifier version as its artifact."))
        if item.services is None:
            raise RuntimeError("The classifier engine runs with the services of the execution layer.")
        # The execution layer reads the tenant's version and loads its checked artifact.
        version, bundle = item.services.classifier(artifact_ref=str(artifact_ref).strip())
        columns = list(parameters.get("text_columns") or version.text_columns)
        wanted = set(parameters.get("fields") or bundle["fields"])
        outputs = {f.get("name") for f in item.output_fields} or wanted
        row = {c: item.payload.get(c, "") for c in columns}
        result = EngineResult(meta={"classifier_version": version.pk, "number": version.number})
        if not any(str(v or "").strip() for v in row.values()):
            result.reasons.append(_("No text to classify in %(columns)s.") % {"columns": ", ".join(columns)})
        prediction = predict(bundle, [row], text_columns=columns, explain=5)[0]
        for name, entry in prediction.items():
            if name not in wanted or name not in outputs:
                continue
            terms = entry.get("terms") or []
            if terms:
                explanation = _("Classifier v%(n)s; terms that drove the decision: %(terms)s") % {
                    "n": version.number, "terms": ", ".join(f"{t} ({w:+.2f})" for t, w in terms)}
            else:
                explanation = _("Classifier v%(n)s; no known terms in the text, so the confidence is low.") % {
                    "n": version.number}
            result.suggestions.append(FieldSuggestion(field=name, value=entry["value"],
                                                      confidence=float(entry["confidence"]),
                                                      explanation=explanation, engine=self.key))
        return result
