"""E-mail delivery of approved reply suggestions (service tickets), through Django's mail machinery.

An item that became applied with a final reply (a clerk approved or edited the suggestion) is answered to
the address of its recipient field, the subject of its subject field prefixed ("AW: "), threaded to the
original message where the item came by mail. Every message carries the disclosure line that the use case
documents for the reply field (`disclosure` in its output field, EU AI Act Art. 50: people are told that
the text was generated with AI); a use case that documents none gets no e-mail sent — the delivery is
refused, escalated and audited instead. The Message-ID derives from the delivery id: a retry sends the same
message, which mail clients show once.

The connector's target: empty for the portal's own mail settings (EMAIL_HOST …), or an SMTP server of its
own (automations.registry.connector_settings)."""
import re
import smtplib
import time
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from automations.choices import ItemStatus
from automations.connectors.services.answers import DeliveryAnswer
from automations.connectors.services.credentials import connector_secret
from automations.registry.connector_settings import EmailSettings, email_settings, loopback

SUBJECT_CHARS = 200
MESSAGE_ID = re.compile(r"^<[^<>\s]+@[^<>\s]+>$")


def _settings(connector) -> EmailSettings:
    return email_settings(connector.settings, default_from=settings.DEFAULT_FROM_EMAIL)


def _spec(use_case, name: str) -> dict:
    return next((spec for spec in use_case.output_fields or [] if isinstance(spec, dict) and spec.get("name") == name),
                {})


def reply_disclosure(use_case, field: str) -> str:
    """The disclosure line the use case documents for its reply field (German first), or ""."""
    text = _spec(use_case, field).get("disclosure") or ""
    if isinstance(text, dict):
        text = text.get("de") or text.get(settings.LANGUAGE_CODE[:2]) or next(iter(text.values()), "")
    return str(text).strip()


def _reply(item, field: str) -> str:
    value = ((item.fields or {}).get(field) or {}).get("value")
    return value.strip() if isinstance(value, str) else ""


def email_wanted(*, connector, item) -> bool:
    """Only an applied item with a final reply is answered (a rejection or an empty reply sends nothing)."""
    if item.status != ItemStatus.APPLIED:
        return False
    try:
        return bool(_reply(item, _settings(connector).reply_field))
    except ValidationError:
        return True  # the delivery is refused visibly when it would be sent


def email_refusal(*, connector, item) -> str:
    """Why this reply must not be sent, or "" when it may."""
    try:
        config = _settings(connector)
    except ValidationError as exc:
        return " ".join(exc.messages)
    if not reply_disclosure(item.use_case, config.reply_field):
        return (_("The use case %(u)s documents no disclosure line (EU AI Act Art. 50) for its field %(f)s: a "
                  "reply generated with AI is not sent without it.")
                % {"u": item.use_case.key, "f": config.reply_field})
    if not _reply(item, config.reply_field):
        return _("The item has no reply to send.")
    recipient = (item.payload or {}).get(config.recipient_field)
    try:
        validate_email(recipient if isinstance(recipient, str) else "")
    except ValidationError:
        return _("The item's field %(f)s holds no e-mail address to answer.") % {"f": config.recipient_field}
    return ""


def _connection(connector, config: EmailSettings):
    if not connector.endpoint:
        return get_connection(fail_silently=False)
    target = urlsplit(connector.endpoint)
    ssl = target.scheme == "smtps"
    tls = not ssl and (config.starttls if config.starttls is not None else not loopback(target.hostname))
    if not ssl and not tls and (settings.PRODUCTION or not loopback(target.hostname)):
        raise ValidationError(_("Plain SMTP is allowed on loopback outside production only."))
    username = unquote(target.username or "")
    password = (connector_secret(entry=connector) or "") if username else ""
    return get_connection("django.core.mail.backends.smtp.EmailBackend", fail_silently=False,
                          host=target.hostname, port=target.port or (465 if ssl else 587), username=username,
                          password=password, use_tls=tls, use_ssl=ssl, timeout=config.timeout)


def email_message(*, connector, delivery, item) -> EmailMessage:
    config = _settings(connector)
    payload = item.payload or {}
    subject = " ".join(str(payload.get(config.subject_field) or "").split()) or _("Your enquiry")
    subject = f"{config.subject_prefix}{subject}".strip()
    reply, disclosure = _reply(item, config.reply_field), reply_disclosure(item.use_case, config.reply_field)
    body = reply if reply.endswith(disclosure) else f"{reply}\n\n{disclosure}"
    sender = config.from_email or settings.DEFAULT_FROM_EMAIL
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "leitplanke.invalid"
    headers = {"Message-ID": f"<{delivery.webhook_id}@{domain}>", "X-Leitplanke-Delivery": delivery.webhook_id}
    original = str(payload.get("message_id") or "").strip()
    if MESSAGE_ID.match(original):
        headers |= {"In-Reply-To": original, "References": original}
    return EmailMessage(subject=subject[:SUBJECT_CHARS], body=body + "\n", from_email=sender,
                        to=[payload[config.recipient_field]], headers=headers)


def email_preview(*, connector, delivery, item) -> str:
    """The message a test delivery records instead of sending it; the recipient's address is named by its
    field only (a receipt keeps no address)."""
    message = email_message(connector=connector, delivery=delivery, item=item).message()
    del message["To"]
    message["To"] = f"<{_settings(connector).recipient_field}>"
    return message.as_string()


def email_send(*, connector, delivery, item) -> DeliveryAnswer:
    """Send one reply; the receipt says whether the mail server accepted it."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        message = email_message(connector=connector, delivery=delivery, item=item)
        with _connection(connector, _settings(connector)) as connection:
            sent = connection.send_messages([message])
    except ValidationError as exc:  # the connector's configuration: retried and counted, IT fixes it
        return DeliveryAnswer(False, None, elapsed(), "", " ".join(exc.messages))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = sorted({code for code, _text in exc.recipients.values()})
        return DeliveryAnswer(False, codes[0] if codes else None, elapsed(), "",
                              _("The mail server refused the recipient (%(codes)s).")
                              % {"codes": ", ".join(map(str, codes))}, permanent=all(c >= 500 for c in codes))
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        # The message itself refused for good (554): no retry helps. A refused login or sender is the
        # connector's problem: retried, counted by its circuit breaker.
        return DeliveryAnswer(False, exc.smtp_code, elapsed(), text[:500], f"SMTP {exc.smtp_code}",
                              permanent=isinstance(exc, smtplib.SMTPDataError) and 500 <= exc.smtp_code < 600)
    except (smtplib.SMTPException, OSError) as exc:
        return DeliveryAnswer(False, None, elapsed(), "", f"{type(exc).__name__}: {exc}"[:1000])
    if not sent:
        return DeliveryAnswer(False, None, elapsed(), "", _("The mail server did not take the message."))
    return DeliveryAnswer(True, None, elapsed(), _("Accepted by the mail server."), "")
