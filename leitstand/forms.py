from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

DEFAULT_DAYS = 30
MAX_DAYS = 731  # two years a page


class PeriodForm(forms.Form):
    """The Leitstand's date range: from and to (both days included), or a number of days up to today."""

    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    days = forms.TypedChoiceField(label=_("Period"), required=False, coerce=int, empty_value=None, choices=[
        ("", _("as chosen")), (7, _("7 days")), (30, _("30 days")), (90, _("90 days")), (365, _("a year"))])

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        until = min(data.get("until") or today, today)  # there are no figures of days to come
        if data.get("days"):
            since, until = today - timedelta(days=data["days"] - 1), today
        else:
            since = data.get("since") or until - timedelta(days=DEFAULT_DAYS - 1)
        if since > until:
            raise forms.ValidationError(_("The period starts after it ends."))
        if (until - since).days + 1 > MAX_DAYS:
            raise forms.ValidationError(_("Choose at most %(n)s days.") % {"n": MAX_DAYS})
        data["since"], data["until"] = since, until
        return data

    def period(self):
        """(since, until) of a valid form, or the default period."""
        if self.is_valid():
            return self.cleaned_data["since"], self.cleaned_data["until"]
        today = timezone.localdate()
        return today - timedelta(days=DEFAULT_DAYS - 1), today
