"""Secrets at rest: mail-account passwords are stored as Fernet tokens (text), never as they were typed.

Keys come from FIELD_ENCRYPTION_KEYS (comma-separated Fernet keys): the first one encrypts, every one decrypts
(MultiFernet), so a key is rotated by putting a new one first, running `manage.py rotate_keys`, then removing the
old one. With DEBUG on (`make run`, the tests) and no key set, a development key is kept in
FIELD_ENCRYPTION_DEV_KEY_FILE (var/, created on first use, never committed); with DEBUG off a key is required.

An empty value is stored empty (it hides nothing, and "" stays comparable in queries). Anything else that no key
decrypts raises SecretUndecryptable: never a silent empty password.
"""
import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.db.models.functions import Cast
from django.db.models.lookups import Exact
from django.views.decorators.debug import sensitive_variables


class SecretUndecryptable(Exception):
    """A stored secret that none of FIELD_ENCRYPTION_KEYS decrypts."""

    def __init__(self, where: str = ""):
        super().__init__("A stored password cannot be decrypted with FIELD_ENCRYPTION_KEYS: the key is wrong, or the "
                         "key it was encrypted with was removed before `manage.py rotate_keys` ran."
                         + (f" ({where})" if where else ""))


def configured_keys() -> list[str]:
    """The keys, first the one that encrypts. Raises ImproperlyConfigured when there is none."""
    keys = [key.strip() for key in settings.FIELD_ENCRYPTION_KEYS if key.strip()]
    if keys:
        return keys
    if settings.FIELD_ENCRYPTION_DEV_KEY_FILE:
        return [_dev_key(Path(settings.FIELD_ENCRYPTION_DEV_KEY_FILE))]
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS is not set: mail-account passwords are stored encrypted and need a key. Make one with "
        "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'` (README, "
        "\"Secrets\").")


@lru_cache(maxsize=4)
def _dev_key(path: Path) -> str:
    """The development key in `path`, made by the first process that needs it (atomically: web and worker agree)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(Fernet.generate_key().decode() + "\n")
        try:
            os.link(tmp, path)  # fails if another process made it first: theirs is the key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip()


@lru_cache(maxsize=4)
def _fernets(keys: tuple[str, ...]) -> tuple[Fernet, MultiFernet]:
    fernets = []
    for number, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS: key {number} of {len(keys)} is not a Fernet key "
                                       "(32 url-safe base64-encoded bytes).") from None
    return fernets[0], MultiFernet(fernets)


def fernets() -> tuple[Fernet, MultiFernet]:
    """(the key that encrypts, all keys). Raises ImproperlyConfigured for a missing or malformed key."""
    return _fernets(tuple(configured_keys()))


@sensitive_variables()  # error reports never show what is encrypted or decrypted
def encrypt(value: str) -> str:
    return fernets()[1].encrypt(value.encode()).decode("ascii") if value else value


@sensitive_variables()
def decrypt(token: str) -> str:
    if not token:
        return token
    try:
        return fernets()[1].decrypt(token.encode("ascii", "replace")).decode()
    except InvalidToken:
        raise SecretUndecryptable from None


@sensitive_variables()
def token_rotate(token: str) -> str | None:
    """The token re-encrypted with the first key, or None if it already is (rotating twice changes nothing)."""
    primary, every = fernets()
    try:
        primary.decrypt(token.encode("ascii", "replace"))
        return None
    except InvalidToken:
        pass
    try:
        return every.rotate(token.encode("ascii", "replace")).decode("ascii")
    except InvalidToken:
        raise SecretUndecryptable from None


class EncryptedTextField(models.TextField):
    """Text kept as a Fernet token: written encrypted, read decrypted. A token differs each time it is made, so
    only "" can be looked up by value."""

    def from_db_value(self, value, expression, connection):
        return value if value is None else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value is None else encrypt(value)


def stored_column(field: str) -> Cast:
    """The column as stored (the token), read or compared without decrypting."""
    return Cast(field, output_field=models.TextField())


def stored_values(model, field: str, *, after=None, limit: int | None = None, newest: bool = False) -> list[tuple]:
    """(pk, stored text) of the rows with something stored in `field`, by primary key after `after` (newest: the
    other way round)."""
    rows = model._base_manager.annotate(_stored=stored_column(field)).filter(_stored__gt="")
    rows = rows.order_by("-pk" if newest else "pk")
    if after is not None:
        rows = rows.filter(pk__gt=after)
    rows = rows.values_list("pk", "_stored")
    return list(rows[:limit] if limit else rows)


def column_rewrite(*, model, field: str, transform, batch_size: int = 500) -> int:
    """Rewrite the stored text of `field` row by row, in batches (one transaction each): `transform(stored)` gives
    the new stored text, or None to leave the row. A row changed meanwhile is left as it is now (its new value was
    written with the current key). Used by the migration that encrypts and by rotate_keys. Returns rows rewritten."""
    rewritten, after = 0, None
    while batch := stored_values(model, field, after=after, limit=batch_size):
        with transaction.atomic():
            for pk, stored in batch:
                try:
                    new = transform(stored)
                except SecretUndecryptable:
                    raise SecretUndecryptable(where=f"{model._meta.db_table}.{field}, row {pk}") from None
                if new is not None and new != stored:
                    rewritten += model._base_manager.filter(Exact(stored_column(field), stored), pk=pk).update(
                        **{field: models.Value(new, output_field=models.TextField())})
        after = batch[-1][0]
    return rewritten


def encrypted_fields(models_) -> list[tuple]:
    """(model, field name) of every encrypted field of these models."""
    return [(model, field.name) for model in models_ for field in model._meta.concrete_fields
            if isinstance(field, EncryptedTextField)]
