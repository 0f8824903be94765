"""Forms of the UI shell. They validate input only; the writes happen in portal.services."""
from django import forms
from django.utils.translation import gettext_lazy as _

from portal.choices import Role, TokenScope
from portal.selectors import membership_list, user_get_by_username

TOKEN_LIFETIME_CHOICES = [
    (30, _("30 days")),
    (90, _("90 days")),
    (180, _("180 days")),
    (365, _("1 year")),
]


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100,
        help_text=_("What the token is for, e.g. the program that uses it."),
    )
    days = forms.TypedChoiceField(
        label=_("Valid for"), choices=TOKEN_LIFETIME_CHOICES, coerce=int, initial=90,
    )
    scopes = forms.MultipleChoiceField(
        label=_("May"), choices=TokenScope.choices, widget=forms.CheckboxSelectMultiple, required=False,
        initial=[TokenScope.READ, TokenScope.INTAKE, TokenScope.RESULTS],
        help_text=_("Within your own permissions. No token approves changes or decides review tasks."),
    )

    def clean_scopes(self):
        # Nothing ticked (e.g. a form posted by a script): what a program feeding the portal needs.
        return self.cleaned_data["scopes"] or [TokenScope.READ, TokenScope.INTAKE, TokenScope.RESULTS]


class RolesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Roles"))
        kwargs.setdefault("choices", Role.choices)
        super().__init__(**kwargs)


CONTROL_ROLES_HELP = _("Automation lead, DSB, ISB, works council and auditor are granted through a change request "
                       "that others approve; the rules are on the members page.")


class MembershipRolesForm(forms.Form):
    roles = RolesField(help_text=CONTROL_ROLES_HELP)
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.TextInput,
        help_text=_("Recorded in the audit log with the change."),
    )


class MembershipCreateForm(forms.Form):
    username = forms.CharField(
        label=_("User name"), max_length=150,
        help_text=_("An existing user account; new accounts are created by an administrator."),
    )
    roles = RolesField(help_text=CONTROL_ROLES_HELP)
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)

    def __init__(self, *args, tenant, **kwargs):
        self.tenant = tenant
        super().__init__(*args, **kwargs)

    def clean_username(self):
        user = user_get_by_username(username=self.cleaned_data["username"])
        if user is None:
            raise forms.ValidationError(_("There is no active user with this user name."))
        existing = membership_list(tenant=self.tenant).filter(user=user).first()
        if existing is not None:
            if existing.is_active:
                raise forms.ValidationError(_("This user is already a member of this tenant."))
            raise forms.ValidationError(_("This user's membership in this tenant was deactivated."))
        self.user = user
        return user.username


class MembershipDeactivateForm(forms.Form):
    prefix = "deactivate"  # shares its page with the roles form; keeps field ids unique
    reason = forms.CharField(label=_("Reason"), max_length=500)


class SecondFactorCodeForm(forms.Form):
    """The second step of a sign-in: the app's code or a recovery code."""

    code = forms.CharField(
        label=_("Code"), max_length=40, strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True, "spellcheck": "false",
                                      "autocapitalize": "off"}),
        help_text=_("The six digits your authenticator app shows now, or one of your recovery codes."),
    )


class TotpConfirmForm(forms.Form):
    """The first code of a newly set-up authenticator app: proof that it works before it is required."""

    code = forms.RegexField(
        label=_("Code from the app"), regex=r"^\s*\d{3}\s?\d{3}\s*$",
        error_messages={"invalid": _("Enter the six digits the app shows.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class LoginUnlockForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=255, required=False)
    address = forms.GenericIPAddressField(label=_("Address"), required=False)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("username") and not cleaned.get("address"):
            raise forms.ValidationError(_("Name a user or an address to unlock."))
        return cleaned
