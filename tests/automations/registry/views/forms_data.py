"""POST data for the registry forms, as a browser would send them: read from the form itself, so a test
changes only what it means to change."""
from automations.registry.forms import UseCaseForm
from automations.registry.views.use_cases import _form_kwargs


def _field_data(bound) -> list | str | None:
    value = bound.value()
    widget_type = getattr(bound.field.widget, "input_type", None)
    if widget_type == "checkbox" and not getattr(bound.field, "choices", None):
        return "on" if value else None
    if isinstance(value, (list, tuple)):
        if bound.field.__class__.__name__ == "LinesField":
            return "\n".join(str(v) for v in value)
        return [str(v) for v in value]
    prepared = bound.field.prepare_value(value)
    return "" if prepared is None else str(prepared)


def form_data(form) -> dict:
    data = {}
    for bound in form:
        value = _field_data(bound)
        if value is not None:
            data[bound.html_name] = value
    return data


def formset_data(formset) -> dict:
    data = {f"{formset.prefix}-{key}": str(value) for key, value in formset.management_form.initial.items()}
    for form in formset.forms:
        data.update(form_data(form))
    return data


def use_case_form_data(tenant, use_case=None, **changes) -> dict:
    """The documentation form of `use_case` (or an empty one) as posted, with `changes` applied."""
    form = UseCaseForm(**_form_kwargs(tenant, use_case))
    data = form_data(form)
    for formset in (form.input_formset, form.output_formset, form.integration_formset):
        data.update(formset_data(formset))
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}
