from django import forms
from django.utils.translation import gettext_lazy as _

from audit.choices import IdentifierKind, Stream
from audit.selectors.events import EventFilter

_DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]


class EventFilterForm(forms.Form):
    """The DSB's search. A data subject is searched by identifier; the form never keeps it anywhere."""

    stream = forms.ChoiceField(label=_("Log"), choices=Stream.choices, required=False)
    actor = forms.CharField(label=_("Actor (user name)"), max_length=150, required=False)
    event_type = forms.CharField(label=_("Event type"), max_length=80, required=False,
                                 help_text=_("Exact, or a prefix ending in a dot (work_item.)"))
    use_case = forms.SlugField(label=_("Use case (key)"), max_length=60, required=False)
    object_type = forms.CharField(label=_("Object type"), max_length=80, required=False)
    object_id = forms.CharField(label=_("Object id"), max_length=64, required=False)
    since = forms.DateTimeField(label=_("From"), required=False, input_formats=_DATETIME_FORMATS)
    until = forms.DateTimeField(label=_("Until (exclusive)"), required=False, input_formats=_DATETIME_FORMATS)
    subject = forms.CharField(label=_("Data subject (e-mail, IBAN, number, name)"), max_length=200, required=False)

    def event_filter(self) -> EventFilter:
        data = self.cleaned_data
        return EventFilter(
            stream=data.get("stream") or Stream.AUDIT, actor=data.get("actor", "").strip(),
            event_type=data.get("event_type", "").strip(), use_case=data.get("use_case", ""),
            object_type=data.get("object_type", "").strip(), object_id=data.get("object_id", "").strip(),
            since=data.get("since"), until=data.get("until"),
        )


class SubjectForm(forms.Form):
    identifier = forms.CharField(label=_("Identifier"), max_length=200,
                                 help_text=_("E-mail address, IBAN, customer or supplier number, or name."))
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("recognise automatically")), *IdentifierKind.choices])
    received_on = forms.DateField(label=_("Request received on"), required=False,
                                  help_text=_("Leave empty for today; the one-month deadline counts from here."))


class ErasureConfirmForm(SubjectForm):
    confirm = forms.BooleanField(label=_("I have checked the list and want to erase this person's data now."),
                                 required=True)


REVEAL_PURPOSES = [
    ("access_request", _("Access request")),
    ("erasure_request", _("Erasure request")),
    ("complaint", _("Complaint or objection")),
    ("incident", _("Data protection incident")),
    ("audit", _("Audit or inspection")),
]


class RevealForm(forms.Form):
    """Why the DSB needs to know who is behind a pseudonym. A choice and a reference, not free text: the
    purpose goes into the access log, which can never be changed, so it must not name anyone."""

    pseudonym = forms.RegexField(regex=r"^ps_[0-9a-f]{20}$", max_length=40)
    purpose = forms.ChoiceField(label=_("Why do you need to know who this is?"), choices=REVEAL_PURPOSES)
    reference = forms.RegexField(label=_("Reference (e.g. the request number)"), regex=r"^[A-Za-z0-9./-]{0,20}$",
                                 required=False, max_length=20)

    def purpose_text(self) -> str:
        reference = self.cleaned_data.get("reference")
        return f"{self.cleaned_data['purpose']} {reference}".strip()
