"""Forms of quality's pages: the periodic review (checklist, notes, outcome) and the request to switch automatic
application back on."""
from django import forms
from django.utils.translation import gettext_lazy as _

from automations.quality.choices import REVIEW_CHECKLIST, ReviewOutcome

YES_NO = [("yes", _("Yes")), ("no", _("No"))]


class UseCaseReviewForm(forms.Form):
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
                            help_text=_("What you found, and for an adjustment what changes."))
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ReviewOutcome.choices, widget=forms.RadioSelect)
    change_request = forms.TypedChoiceField(
        label=_("Change request of the adjustment"), required=False, coerce=int, empty_value=None,
        help_text=_("Propose the adjustment first (label move, documentation, status); then name it here. Retiring "
                    "proposes the retirement by itself."))

    def __init__(self, *args, change_requests=(), **kwargs):
        super().__init__(*args, **kwargs)
        for key, question in REVIEW_CHECKLIST:
            self.fields[f"check_{key}"] = forms.ChoiceField(label=question, choices=YES_NO, widget=forms.RadioSelect)
        self.order_fields([f"check_{key}" for key, _question in REVIEW_CHECKLIST] + ["notes", "outcome",
                                                                                      "change_request"])
        self.change_requests = {cr.pk: cr for cr in change_requests}
        self.fields["change_request"].choices = [("", "—")] + [
            (cr.pk, f"CR-{cr.pk}: {cr.title} ({cr.get_state_display()})") for cr in change_requests]

    def checklist(self) -> dict:
        return {key: self.cleaned_data[f"check_{key}"] == "yes" for key, _question in REVIEW_CHECKLIST}

    def chosen_change_request(self):
        return self.change_requests.get(self.cleaned_data.get("change_request"))


class BreakerResetForm(forms.Form):
    description = forms.CharField(label=_("Why automatic application may run again"),
                                  widget=forms.Textarea(attrs={"rows": 5}),
                                  help_text=_("What was found and changed (e.g. new thresholds, a retrained "
                                              "classifier, corrected master data). The approvers decide on it."))
