import re
from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from audit.choices import IdentifierKind, IdentityCheck, LegalHoldScope, RequestChannel, Stream
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


_MONTHS = {name: n for n, names in enumerate([
    ("januar", "january", "jan"), ("februar", "february", "feb"), ("märz", "maerz", "march", "mär", "mar"),
    ("april", "apr"), ("mai", "may"), ("juni", "june", "jun"), ("juli", "july", "jul"),
    ("august", "aug"), ("september", "sep", "sept"), ("oktober", "october", "okt", "oct"),
    ("november", "nov"), ("dezember", "december", "dez", "dec")], start=1) for name in names}
_WRITTEN_DATE = re.compile(r"^(\d{1,2})\.?\s+([^\W\d_]+)\.?\s+(\d{4})$")


class DayField(forms.DateField):
    """A day as the browser's date picker sends it (ISO 8601), or typed the German way: 01.12.2026, 1.12.26,
    1. Dezember 2026 (English month names too)."""

    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    input_formats = ["%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"]

    def to_python(self, value):
        if isinstance(value, str):
            match = _WRITTEN_DATE.match(" ".join(value.split()))
            if match and match.group(2).casefold() in _MONTHS:
                try:
                    return date(int(match.group(3)), _MONTHS[match.group(2).casefold()], int(match.group(1)))
                except ValueError:
                    raise ValidationError(self.error_messages["invalid"], code="invalid") from None
        return super().to_python(value)


class SubjectForm(forms.Form):
    identifier = forms.CharField(label=_("Identifier"), max_length=200,
                                 help_text=_("E-mail address, IBAN, customer or supplier number, or name."))
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("recognise automatically")), *IdentifierKind.choices])
    received_on = DayField(label=_("Request received on"), required=False,
                           help_text=_("Leave empty for today; the one-month deadline counts from here."))
    channel = forms.ChoiceField(label=_("Received by"), required=False,
                                choices=[("", "—"), *RequestChannel.choices])
    reason = forms.CharField(label=_("Reason or ground"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("For an erasure its ground (Art. 17(1) GDPR); describe the case, do not "
                                         "name the person."))


class ErasureConfirmForm(SubjectForm):
    confirm = forms.BooleanField(label=_("I have checked the list and want to erase this person's data now."),
                                 required=True)

    def clean_reason(self):
        reason = self.cleaned_data.get("reason", "").strip()
        if not reason:
            raise ValidationError(_("Give the ground of the erasure (Art. 17(1) GDPR)."))
        return reason


class IdentityCheckForm(forms.Form):
    check = forms.ChoiceField(label=_("How was the identity checked?"), choices=IdentityCheck.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class ExtensionForm(forms.Form):
    months = forms.TypedChoiceField(label=_("Extend by"), coerce=int,
                                    choices=[(1, _("one further month")), (2, _("two further months"))])
    reason = forms.CharField(label=_("Reason for the extension"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class RefusalForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the refusal"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


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


class LegalHoldForm(forms.Form):
    """What a legal hold covers, why, and under which reference. The reference names a case, never a person:
    it goes into the audit log."""

    scope = forms.ChoiceField(label=_("The hold covers"), choices=LegalHoldScope.choices)
    item_id = forms.CharField(label=_("Work item (id)"), max_length=36, required=False)
    identifier = forms.CharField(label=_("Person (e-mail, IBAN, number or name)"), max_length=200, required=False)
    identifier_kind = forms.ChoiceField(label=_("Identified by"), required=False,
                                        choices=[("", _("recognise automatically")), *IdentifierKind.choices])
    use_case_key = forms.ChoiceField(label=_("Use case"), required=False)
    date_from = DayField(label=_("Received from"), required=False)
    date_until = DayField(label=_("Received until"), required=False)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)
    reference = forms.RegexField(label=_("Reference (case number, order, letter)"), max_length=100,
                                 regex=r"^[\w .,/§()-]+$")

    def __init__(self, *args, use_cases=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["use_case_key"].choices = [("", _("every use case")), *((u.key, u.title) for u in use_cases)]


class LegalHoldLiftForm(forms.Form):
    lift_reason = forms.CharField(label=_("Why is the hold lifted?"), widget=forms.Textarea(attrs={"rows": 2}),
                                  max_length=2000)
