"""Forms of the clerk pages: the decision with its editable fields, the queue filters, bulk approval and
the core team's training record."""
from django import forms
from django.utils.translation import gettext_lazy as _

from automations.fields import choice_options, field_help, field_label
from reviews.choices import DecisionAction, TaskState

FIELD_PREFIX = "f_"
LONG_TYPES = ("long_text",)


def display_value(value) -> str:
    """How a suggested value appears in its input: empty for none, the plain string otherwise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class DecisionForm(forms.Form):
    """One input per output field of the use case, the decision and a comment (the reason, where one is
    needed). `final_values()` keeps a value's original type where the clerk left it unchanged."""

    action = forms.ChoiceField(choices=DecisionAction.choices)
    comment = forms.CharField(label=_("Comment or reason"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={
                                  "rows": 1, "placeholder": _("Comment or reason (needed to reject, escalate or ask "
                                                              "for clarification)")}))

    def __init__(self, *args, use_case, values: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.use_case, self.values = use_case, values
        self.specs = list(use_case.output_fields)
        for index, spec in enumerate(self.specs, start=1):
            name = spec["name"]
            initial = display_value(values.get(name))
            attrs = {"data-field-index": index, "id": f"field-{name}", "autocomplete": "off",
                     "aria-describedby": f"field-{name}-help"}
            field: forms.Field
            if spec.get("type") == "category" and spec.get("choices"):
                choices = [("", "—")] + choice_options(spec)
                if initial and initial not in spec["choices"]:
                    choices.append((initial, initial))
                field = forms.ChoiceField(choices=choices, required=False, widget=forms.Select(attrs=attrs))
            elif spec.get("type") in LONG_TYPES:
                field = forms.CharField(required=False, max_length=20000,
                                        widget=forms.Textarea(attrs={**attrs, "rows": 4}))
            else:
                field = forms.CharField(required=False, max_length=2000, widget=forms.TextInput(attrs=attrs))
            field.label = field_label(spec)
            field.help_text = field_help(spec)
            field.initial = initial
            self.fields[FIELD_PREFIX + name] = field

    def field_names(self) -> list[str]:
        return [spec["name"] for spec in self.specs]

    def final_values(self) -> dict:
        final = {}
        for name in self.field_names():
            submitted = self.cleaned_data.get(FIELD_PREFIX + name)
            # Browsers send a textarea's line breaks as CRLF: compare like with like.
            submitted = ("" if submitted is None else str(submitted)).replace("\r\n", "\n").strip()
            original = self.values.get(name)
            if submitted == display_value(original).replace("\r\n", "\n").strip():
                if original is not None:
                    final[name] = original
                continue
            final[name] = submitted
        return final


class TaskFilterForm(forms.Form):
    state = forms.ChoiceField(choices=[(TaskState.OPEN, _("Open")), (TaskState.CLAIMED, _("In progress")),
                                       (TaskState.AWAITING_SECOND_REVIEW, _("Awaiting second review"))],
                              required=False)
    use_case = forms.TypedChoiceField(label=_("Use case"), coerce=int, required=False, empty_value=None)
    q = forms.CharField(label=_("Search reasons"), required=False, max_length=200)
    priority = forms.TypedChoiceField(label=_("Priority"), coerce=int, required=False, empty_value=None,
                                      choices=[("", _("all"))] + [(p, str(p)) for p in range(1, 6)])
    overdue = forms.BooleanField(label=_("Only overdue"), required=False)
    after = forms.CharField(required=False, max_length=200)

    def __init__(self, *args, use_cases, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["use_case"].choices = [("", _("all"))] + [(u.pk, u.title) for u in use_cases]


class BulkApproveForm(forms.Form):
    tasks = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=True,
                                           error_messages={"required": _("Choose the tasks to approve.")})

    def __init__(self, *args, task_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tasks"].choices = [(pk, pk) for pk in task_ids]


class TrainingRecordForm(forms.Form):
    use_case = forms.TypedChoiceField(label=_("Use case"), coerce=int)
    user = forms.TypedChoiceField(label=_("Clerk"), coerce=int)
    topic = forms.CharField(label=_("Topic"), max_length=200)
    held_on = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, use_cases, clerks, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["use_case"].choices = [(u.pk, u.title) for u in use_cases]
        self.fields["user"].choices = [(u.pk, u.get_full_name() or u.username) for u in clerks]


class GrantForm(forms.Form):
    """One change on the grants page: who (a member), what (a team, a queue, a use case or a department's use
    cases), grant or take away."""

    KINDS = [("team", _("Team (all its queues)")), ("queue", _("Review queue")),
             ("use_case", _("Use case (owner)")), ("department", _("All use cases of a department (owner)"))]

    kind = forms.ChoiceField(label=_("What"), choices=KINDS)
    target = forms.CharField(label=_("Which"), max_length=200, widget=forms.TextInput(attrs={"list": "grant-targets"}),
                             help_text=_("The team's or department's name, the queue's number or the use case's key."))
    user = forms.ChoiceField(label=_("Member"))
    action = forms.ChoiceField(choices=[("grant", _("Grant")), ("revoke", _("Take away"))], initial="grant")

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [(u.username, (u.get_full_name() and f"{u.get_full_name()} ({u.username})")
                                        or u.username) for u in members]
