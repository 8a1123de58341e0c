"""The single place that writes the change log.

One pre_save receiver remembers the row as it was; one post_save and one post_delete receiver
write a ChangeRecord for every model that sets `audited = True` (all DomainModel subclasses and
the user model). Views and services never write ChangeRecords themselves.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Sequence
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from consortium_hub.audit.context import current_actor
from consortium_hub.audit.models import ChangeRecord

_BEFORE_ATTR = "_audit_before"


def _is_audited(sender: type[models.Model]) -> bool:
    return getattr(sender, "audited", False) and not sender._meta.abstract


def snapshot(instance: models.Model) -> dict[str, Any]:
    excluded = set(getattr(instance, "audit_exclude", ()))
    data: dict[str, Any] = {}
    for f in instance._meta.concrete_fields:
        if f.name in excluded or f.name in ("created_at", "updated_at"):
            continue
        data[f.attname] = _jsonable(getattr(instance, f.attname))
    return data


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


@receiver(pre_save)
def remember_before(sender: type[models.Model], instance: models.Model, raw: bool = False, **kwargs: Any) -> None:
    if raw or not _is_audited(sender) or instance.pk is None:
        return
    previous = sender._base_manager.filter(pk=instance.pk).first()
    setattr(instance, _BEFORE_ATTR, snapshot(previous) if previous is not None else None)


@receiver(post_save)
def record_save(sender: type[models.Model], instance: models.Model, created: bool, raw: bool = False,
                **kwargs: Any) -> None:
    if raw or not _is_audited(sender):
        return
    before = None if created else getattr(instance, _BEFORE_ATTR, None)
    after = snapshot(instance)
    if not created and before == after:
        return  # a save that changed nothing is not a change
    _write(instance, ChangeRecord.Action.CREATE if created else ChangeRecord.Action.UPDATE, before, after)
    if hasattr(instance, _BEFORE_ATTR):
        delattr(instance, _BEFORE_ATTR)


@receiver(post_delete)
def record_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    if not _is_audited(sender):
        return
    _write(instance, ChangeRecord.Action.DELETE, snapshot(instance), None)


def _write(instance: models.Model, action: str, before: dict | None, after: dict | None) -> None:
    _record(instance, action, before, after).save()


def record_created_in_bulk(instances: Sequence[models.Model], *, batch_size: int = 2000) -> None:
    """The records `record_save` would write for rows a service inserted with bulk_create.

    bulk_create sends no signals; a service that must insert tens of thousands of audited rows at
    once (the billing cycle) calls this right after, in the same transaction, so the change log stays
    complete and is still written here only.
    """
    ChangeRecord.objects.bulk_create(
        [_record(instance, ChangeRecord.Action.CREATE, None, snapshot(instance)) for instance in instances],
        batch_size=batch_size)


def _record(instance: models.Model, action: str, before: dict | None, after: dict | None) -> ChangeRecord:
    actor = current_actor()
    parent = _parent_of(instance)
    consortium_id = instance.consortium_id_for_access() if hasattr(instance, "consortium_id_for_access") else None
    organisation_id = (
        instance.organisation_id_for_access() if hasattr(instance, "organisation_id_for_access") else None
    )
    return ChangeRecord(
        content_type=ContentType.objects.get_for_model(type(instance)),
        object_id=str(instance.pk),
        object_repr=str(instance)[:255],
        action=action,
        before=before,
        after=after,
        parent_content_type=ContentType.objects.get_for_model(type(parent)) if parent is not None else None,
        parent_object_id=str(parent.pk) if parent is not None else "",
        consortium_id=consortium_id,
        organisation_id=organisation_id,
        user_id=actor.user_id if actor else None,
        request_id=actor.request_id if actor else "",
        via=actor.via if actor else "",
    )


def _parent_of(instance: models.Model) -> models.Model | None:
    path = getattr(instance, "audit_parent", None)
    if not path:
        return None
    try:
        return getattr(instance, path)
    except models.ObjectDoesNotExist:
        return None
