"""The briefing of a use case, generated from its documentation (EU AI Act Art. 4, "Prozesswissen"):
what is automated, where its limits are, what the confidences mean, how corrections flow back, and
the manual fallback. Its hash ties a clerk's confirmation to this version of the text."""
import hashlib
import json

from django.utils.translation import gettext as _

from automations.fields import field_label
from automations.registry.selectors import active_release_label


def briefing_for(use_case) -> dict:
    label = active_release_label(tenant=use_case.tenant, use_case_key=use_case.key)
    thresholds = label.release.threshold_set.thresholds if label else {}
    sections = [
        (_("What is automated"), use_case.automated_decisions or use_case.purpose),
        (_("What stays with you"), use_case.human_decisions or _("Every decision shown to you in the queue.")),
        (_("What the confidence means"),
         _("Each suggested value has a confidence between 0 and 100 %. Values at or above the field's "
           "“automatic” threshold may be applied without review in production; below the “reject” threshold a "
           "value is not trusted and the item goes to clarification. A confidence is an estimate, never truth: "
           "check the document.")),
        (_("Thresholds in force"), "; ".join(
            _("%(field)s: applied automatically from %(auto)s %%, not trusted below %(reject)s %%") % {
                "field": field_label(use_case.output_field(name), name), "auto": int(float(t.get("auto", 1)) * 100),
                "reject": int(float(t.get("reject", 0)) * 100)}
            for name, t in sorted(thresholds.items())) or _("No release is in production.")),
        (_("Where the limits are"), use_case.risk_rationale or "-"),
        (_("How corrections flow back"),
         _("Your corrections are stored with the difference to the suggestion. %(reuse)s")
         % {"reuse": _("They may be reused as training data for this use case.") if use_case.training_reuse_allowed
            else _("They are not reused as training data (purpose limitation).")}),
        (_("Manual fallback"), use_case.manual_fallback or "-"),
        (_("Escalation contact"), str(use_case.escalation_contact or "-")),
    ]
    digest = hashlib.sha256(json.dumps([use_case.key, use_case.automated_decisions, use_case.human_decisions,
                                        use_case.risk_rationale, use_case.manual_fallback,
                                        use_case.training_reuse_allowed, thresholds],
                                       sort_keys=True, default=str).encode()).hexdigest()
    return {"use_case": use_case, "sections": sections, "hash": digest}
