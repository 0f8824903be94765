"""The briefing of a use case, generated from its documentation (EU AI Act Art. 4, "Prozesswissen"):
what is automated, where its limits are, what the confidences mean, how corrections flow back, and
the manual fallback. Its hash ties a clerk's confirmation to this version of the text."""
import hashlib
import json

from django.utils.translation import gettext as _

from automations.fields import field_label
from automations.registry.selectors import BRIEFING_FIELDS, briefing_basis


def briefing_hash(use_case, basis: dict) -> str:
    """The version of a briefing: a hash of what it is generated from (the same for the same basis)."""
    return hashlib.sha256(json.dumps([use_case.key, *(basis[name] for name in BRIEFING_FIELDS), basis["thresholds"]],
                                     sort_keys=True, default=str).encode()).hexdigest()


def briefing_version(use_case) -> str:
    """briefing_for(use_case)["hash"] without writing the briefing's text (what a clearance check needs)."""
    return briefing_hash(use_case, briefing_basis(use_case=use_case))


def thresholds_sentence(use_case, thresholds: dict) -> str:
    return "; ".join(
        _("%(field)s: applied automatically from %(auto)s %%, not trusted below %(reject)s %%") % {
            "field": field_label(use_case.output_field(name), name), "auto": int(float(t.get("auto", 1)) * 100),
            "reject": int(float(t.get("reject", 0)) * 100)}
        for name, t in sorted(thresholds.items())) or _("No release is in production.")


def briefing_difference(use_case, before: dict, after: dict) -> list[dict]:
    """What changed between two bases of a use case's briefing, for people: the section's label, before, after."""
    rows = []
    for name in BRIEFING_FIELDS:
        if before.get(name) != after.get(name):
            field = use_case._meta.get_field(name)
            show = (lambda v: _("yes") if v else _("no")) if name == "training_reuse_allowed" else (
                lambda v: v or "-")
            rows.append({"item": str(field.verbose_name), "before": show(before.get(name)),
                         "after": show(after.get(name))})
    if before.get("thresholds") != after.get("thresholds"):
        rows.append({"item": str(_("Thresholds in force")),
                     "before": thresholds_sentence(use_case, before.get("thresholds") or {}),
                     "after": thresholds_sentence(use_case, after.get("thresholds") or {})})
    return rows


def briefing_for(use_case) -> dict:
    basis = briefing_basis(use_case=use_case)
    thresholds = basis["thresholds"]
    sections = [
        (_("What is automated"), use_case.automated_decisions or use_case.purpose),
        (_("What stays with you"), use_case.human_decisions or _("Every decision shown to you in the queue.")),
        (_("What the confidence means"),
         _("Each suggested value has a confidence between 0 and 100 %. Values at or above the field's "
           "“automatic” threshold may be applied without review in production; below the “reject” threshold a "
           "value is not trusted and the item goes to clarification. A confidence is an estimate, never truth: "
           "check the document.")),
        (_("Thresholds in force"), thresholds_sentence(use_case, thresholds)),
        (_("Where the limits are"), use_case.risk_rationale or "-"),
        (_("How corrections flow back"),
         _("Your corrections are stored with the difference to the suggestion. %(reuse)s")
         % {"reuse": _("They may be reused as training data for this use case.") if use_case.training_reuse_allowed
            else _("They are not reused as training data (purpose limitation).")}),
        (_("Manual fallback"), use_case.manual_fallback or "-"),
        (_("Escalation contact"), str(use_case.escalation_contact or "-")),
    ]
    return {"use_case": use_case, "sections": sections, "hash": briefing_hash(use_case, basis)}
