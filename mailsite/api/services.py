"""The API's writes: sending a message (at most once per Idempotency-Key), cancelling one, tokens."""
import base64
import binascii
import dataclasses
import hashlib
import json
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables

from mailsite.api import auth, problems
from mailsite.api.models import ApiToken, IdempotencyKey
from mailsite.api.schemas import MessageIn
from mailsite.mailboxes.models import MailAccount
from mailsite.mailboxes.outgoing import OutgoingMail
from spooler.models import OutboxMessage
from spooler.services.outbound.enqueue import outbox_send
from spooler.services.outbound.quota import SendingQuotaExceeded
from spooler.services.outbound.queue_ops import outbox_cancel


@dataclasses.dataclass
class Submitted:
    row: OutboxMessage
    replayed: bool  # True: an earlier request with the same Idempotency-Key made it


def message_submit(*, user, data: MessageIn, idempotency_key: str | None = None) -> Submitted:
    """Spool `data` from the user's account whose address is its `from`. Raises ApiProblem.

    With a key: the key row and the spool row are written in one transaction under a unique (user, key). A
    concurrent request with the same key waits for that transaction (SQLite: its BEGIN IMMEDIATE; PostgreSQL: the
    unique index) and then finds the row, so it answers with the first message instead of sending a second."""
    account = _sender_account(user=user, address=data.from_)
    mail = _outgoing(account=account, data=data)
    send_at = data.send_at  # (aware: the schema takes only RFC 3339 with an offset)
    if idempotency_key is None:
        with transaction.atomic():
            return Submitted(row=_spool(mail=mail, account=account, user=user, send_at=send_at), replayed=False)
    fingerprint = hashlib.sha256(json.dumps(data.model_dump(mode="json", by_alias=True), sort_keys=True,
                                            ensure_ascii=True).encode()).hexdigest()
    with transaction.atomic():
        found = _live_key(user=user, key=idempotency_key)
        if found is None:
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(user=user, key=idempotency_key, fingerprint=fingerprint)
            except IntegrityError:  # PostgreSQL: another request with this key committed first
                found = _live_key(user=user, key=idempotency_key)
                if found is None:  # (it was expired and purged meanwhile: extremely unlikely; say "try again")
                    raise problems.ApiProblem(409, _("A request with this Idempotency-Key was just handled; "
                                                     "send it again.")) from None
        if found is not None:
            return _replay(found, fingerprint=fingerprint)
        record.message = _spool(mail=mail, account=account, user=user, send_at=send_at)
        record.save(update_fields=["message"])
        return Submitted(row=record.message, replayed=False)


def _live_key(*, user, key: str) -> IdempotencyKey | None:
    """The key's record if younger than API_IDEMPOTENCY_SECONDS; an older one is deleted (the key is free again)."""
    cutoff = timezone.now() - timedelta(seconds=settings.API_IDEMPOTENCY_SECONDS)
    found = IdempotencyKey.objects.filter(user=user, key=key).select_related("message").first()
    if found is not None and found.created_at < cutoff:
        IdempotencyKey.objects.filter(id=found.id).delete()
        return None
    return found


def _replay(found: IdempotencyKey, *, fingerprint: str) -> Submitted:
    if found.fingerprint != fingerprint:
        raise problems.ApiProblem(422, _("This Idempotency-Key was used with another request body. Use a new key "
                                         "for a new message."), type=problems.IDEMPOTENCY_KEY_REUSED)
    if found.message is None:
        raise problems.ApiProblem(409, _("The message sent with this Idempotency-Key was deleted from the spool; "
                                         "it is not sent again."), type=problems.IDEMPOTENCY_KEY_SPENT)
    return Submitted(row=found.message, replayed=True)


def _spool(*, mail: OutgoingMail, account: MailAccount, user, send_at) -> OutboxMessage:
    try:
        return outbox_send(mail=mail, relay=account, user=user, not_before=send_at)
    except ValueError as exc:  # the builder's last word on what the checks above let through
        raise problems.field_errors({"": str(exc)}) from None
    except SendingQuotaExceeded as exc:  # (the transaction rolls back: no key is spent, nothing is queued)
        raise problems.ApiProblem(429, exc.message, type=problems.SENDING_QUOTA,
                                  headers={"Retry-After": str(exc.retry_after)}) from None


def _sender_account(*, user, address: str) -> MailAccount:
    account = MailAccount.objects.filter(user=user, address__iexact=address).order_by("id").first()
    if account is None:
        own = ", ".join(MailAccount.objects.filter(user=user).values_list("address", flat=True)[:20])
        raise problems.field_errors({"from": _("Send from the address of one of your mail accounts: %(own)s.")
                                             % {"own": own or _("(you have none)")}})
    return account


def _outgoing(*, account: MailAccount, data: MessageIn) -> OutgoingMail:
    headers = dict(data.headers)
    reply_to = headers.pop("Reply-To", "")
    in_reply_to = headers.pop("In-Reply-To", "")
    references = headers.pop("References", "").split()
    return OutgoingMail(
        sender=account.from_header, to=list(data.to), cc=list(data.cc), bcc=list(data.bcc), subject=data.subject,
        text=data.text, html=data.html, attachments=_attachments(data), in_reply_to=in_reply_to,
        references=references, reply_to=[reply_to] if reply_to else [], headers=headers,
    )


def _attachments(data: MessageIn) -> list[tuple[str, str, bytes]]:
    limit, total, files, errors = settings.API_MAX_ATTACHMENT_BYTES, 0, [], {}
    for index, item in enumerate(data.attachments):
        total += len(item.content_base64) * 3 // 4  # (counted before decoding: nothing over the limit is decoded)
        if total > limit + 3:
            raise problems.ApiProblem(
                413, _("Attachments may be %(limit)s together.") % {"limit": filesizeformat(limit)},
                type=problems.TOO_LARGE)
        try:
            body = base64.b64decode(item.content_base64, validate=True)
        except (binascii.Error, ValueError):
            errors[f"attachments.{index}.content_base64"] = _("This is not base64.")
            continue
        files.append((item.filename, item.content_type.lower(), body))
    if errors:
        raise problems.field_errors(errors)
    if sum(len(body) for _n, _t, body in files) > limit:
        raise problems.ApiProblem(413, _("Attachments may be %(limit)s together.") % {"limit": filesizeformat(limit)},
                                  type=problems.TOO_LARGE)
    return files


def message_cancel(*, row: OutboxMessage) -> OutboxMessage:
    """Cancel the (user's) row if it still waits (queued, deferred, held), with queue_ops' conditional UPDATE: a
    worker claiming it at the same moment either sends it or finds it cancelled, never both. 409 otherwise."""
    if not outbox_cancel(ids=[row.id]):
        row.refresh_from_db()
        raise problems.ApiProblem(409, _("This message is %(status)s: it can no longer be cancelled.")
                                  % {"status": row.status}, type=problems.NOT_CANCELLABLE)
    row.refresh_from_db()
    return row


@sensitive_variables("secret")
def api_token_create(*, user, name: str) -> tuple[ApiToken, str]:
    """A new token for the user: the row (its digest and prefix) and the secret, which is never stored."""
    secret = auth.token_new()
    token = ApiToken.objects.create(user=user, name=name, prefix=secret[:auth.SHOWN_CHARS],
                                    digest=auth.token_digest(secret))
    return token, secret


def api_token_revoke(*, user, token_id: int) -> bool:
    return bool(ApiToken.objects.filter(id=token_id, user=user, revoked_at__isnull=True)
                .update(revoked_at=timezone.now()))


def idempotency_keys_purge() -> int:
    """Forget keys older than API_IDEMPOTENCY_SECONDS (beat, hourly)."""
    cutoff = timezone.now() - timedelta(seconds=settings.API_IDEMPOTENCY_SECONDS)
    count, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return count
