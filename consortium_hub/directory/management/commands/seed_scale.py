"""Bulk benchmark data: many organisations, memberships and contacts, fast.

This deliberately bypasses the audit log: rows are written with `bulk_create`, which sends no
save signals, so no ChangeRecord is written and nothing appears in ORCID's change feed. The data is
for load tests and benchmarks only; never use this to load real members (use the import instead).
"""

from __future__ import annotations

import datetime as dt
import itertools
import time
from collections.abc import Iterator, Sequence
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max

from consortium_hub.core.testing.factories import valid_orcid, valid_ror
from consortium_hub.directory.models import Consortium, Contact, ContactRole, Membership, Organisation

BATCH = 2000
# ROR ids come from factories.valid_ror(n); seeded organisations use n from here up, far above the
# small n that tests and the demo use. valid_ror is one-to-one for n below 2**30.
ROR_BASE = 1_000_000

CONSORTIUM_PLACES = [("GB", "GBP", "Europe/London"), ("AU", "AUD", "Australia/Brisbane"),
                     ("DE", "EUR", "Europe/Berlin"), ("CA", "CAD", "America/Toronto"),
                     ("ZA", "ZAR", "Africa/Johannesburg")]
ORG_KINDS = [("University of Scale {}", Organisation.Type.RESEARCH),
             ("Scale Institute of Technology {}", Organisation.Type.RESEARCH),
             ("Scale Research Council {}", Organisation.Type.FUNDER),
             ("Scale University Press {}", Organisation.Type.PUBLISHER),
             ("Scale Health Research Agency {}", Organisation.Type.GOVERNMENT)]
CITIES = ["London", "Leeds", "Brisbane", "Berlin", "Toronto", "Cape Town", "Perth", "Bristol", "Hamburg", "Ottawa"]
FIRST = ["Amara", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Isla", "Jonas", "Kemi", "Liam"]
LAST = ["Adeyemi", "Brown", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones", "Khan"]
# Roles of an organisation's third and later contacts; the first two hold voting and main.
OTHER_ROLES = [ContactRole.Kind.TECHNICAL, ContactRole.Kind.INVOICE, ContactRole.Kind.COMMS,
               ContactRole.Kind.PRODUCT, ContactRole.Kind.AGREEMENT_SIGNATORY, ContactRole.Kind.MAIN,
               ContactRole.Kind.OTHER]
SIZES = [Membership.Size.SMALL, Membership.Size.STANDARD, Membership.Size.LARGE]


class Command(BaseCommand):
    help = ("Create benchmark data fast: N organisations (valid ROR ids) spread over K consortia named "
            "'Scale consortium i' (created when missing), one membership each, and M contacts spread over them "
            "with roles (one voting and at least one main contact per organisation that has two or more). "
            "Writes with bulk_create in batches of 2,000 inside one transaction and so deliberately BYPASSES THE "
            "AUDIT LOG and the change feed: benchmark data only. Running it again adds more rows.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--organisations", type=int, required=True, help="Organisations to add.")
        parser.add_argument("--contacts", type=int, required=True, help="Contacts to add, spread over them.")
        parser.add_argument("--consortia", type=int, default=2, help="Consortia to spread them over (default 2).")

    def handle(self, *args: Any, organisations: int, contacts: int, consortia: int, **options: Any) -> None:
        if organisations < 0 or contacts < 0 or consortia < 1:
            raise CommandError("--organisations and --contacts must be >= 0 and --consortia >= 1.")
        if contacts and not organisations:
            raise CommandError("Contacts need organisations to belong to.")
        started = time.perf_counter()
        # Benchmark data: bulk_create sends no save signals, so the audit log is bypassed on purpose.
        with transaction.atomic():
            seeded = seed(organisations=organisations, contacts=contacts, consortia=consortia)
        self.stdout.write(self.style.SUCCESS(
            "Added {organisations} organisations, {memberships} memberships, {contacts} contacts and {roles} "
            "contact roles in {consortia} consortia ({seconds:.1f} s; not audited).".format(
                **seeded, seconds=time.perf_counter() - started)))


def seed(*, organisations: int, contacts: int, consortia: int) -> dict[str, int]:
    """Add the rows (the caller holds the transaction); return how many of each."""
    targets = _consortia(consortia)
    # Serials continue from the highest id so far, so a second run never reuses a name, email or ROR id:
    # every earlier seeded row's serial is at most its own id (ids only grow).
    org_offset = Organisation.objects.aggregate(m=Max("pk"))["m"] or 0
    contact_offset = Contact.objects.aggregate(m=Max("pk"))["m"] or 0
    counts = {"organisations": 0, "memberships": 0, "contacts": 0, "roles": 0, "consortia": len(targets)}
    per_org, extra = divmod(contacts, organisations) if organisations else (0, 0)
    contact_serial = itertools.count(contact_offset + 1)
    for start in range(0, organisations, BATCH):
        indexes = range(start, min(start + BATCH, organisations))
        orgs = _insert(Organisation, [_organisation(org_offset + i + 1, targets[i % len(targets)]) for i in indexes])
        counts["organisations"] += len(orgs)
        counts["memberships"] += len(_insert(Membership, [_membership(o, i) for i, o in zip(indexes, orgs)]))
        new_contacts: list[Contact] = []
        for i, org in zip(indexes, orgs):
            how_many = per_org + (1 if i < extra else 0)
            new_contacts.extend(_contact(org, next(contact_serial), n, how_many) for n in range(how_many))
        roles: list[ContactRole] = []
        # Contacts are inserted in batches too; an organisation's contacts are consecutive.
        for chunk in _chunks(new_contacts, BATCH):
            saved = _insert(Contact, chunk)
            counts["contacts"] += len(saved)
            roles.extend(role for c in saved for role in _roles(c))
        for chunk in _chunks(roles, BATCH):
            counts["roles"] += len(_insert(ContactRole, chunk))
    return counts


def _consortia(k: int) -> list[Consortium]:
    names = [f"Scale consortium {i}" for i in range(1, k + 1)]
    existing = {c.name for c in Consortium.objects.filter(name__in=names)}
    missing = []
    for i, name in enumerate(names):
        if name not in existing:
            country, currency, tz = CONSORTIUM_PLACES[i % len(CONSORTIUM_PLACES)]
            missing.append(Consortium(name=name, country=country, billing_currency=currency, timezone=tz,
                                      formed_on=dt.date(2020, 1, 1)))
    Consortium.objects.bulk_create(missing)
    by_name = {c.name: c for c in Consortium.objects.filter(name__in=names)}
    return [by_name[name] for name in names]


def _organisation(serial: int, consortium: Consortium) -> Organisation:
    pattern, kind = ORG_KINDS[serial % len(ORG_KINDS)]
    city = CITIES[serial % len(CITIES)]
    return Organisation(consortium=consortium, legal_name=pattern.format(serial), country=consortium.country,
                        city=city, type=kind, website=f"https://org{serial}.scale.example",
                        ror_id=valid_ror(ROR_BASE + serial), ringgold_id=str(100000 + serial))


def _membership(org: Organisation, i: int) -> Membership:
    return Membership(organisation=org, consortium_id=org.consortium_id,
                      status=Membership.Status.ACTIVE if i % 10 else Membership.Status.ONBOARDING,
                      tier=Membership.Tier.PREMIUM if i % 4 == 0 else Membership.Tier.BASIC, size=SIZES[i % 3],
                      start_date=dt.date(2015 + i % 10, 1 + i % 12, 1))


def _contact(org: Organisation, serial: int, n: int, of: int) -> Contact:
    """The organisation's n-th contact of `of`: the first votes, the second is the main contact."""
    first, last = FIRST[serial % len(FIRST)], LAST[(serial // len(FIRST)) % len(LAST)]
    contact = Contact(organisation=org, name=f"{first} {last}", email=f"{first}.{last}.{serial}@scale.example".lower(),
                      job_title="Research Office Manager" if n == 0 else "",
                      orcid_id=valid_orcid(serial) if n < 2 else "")
    if n == 0:
        kinds = [ContactRole.Kind.VOTING] + ([ContactRole.Kind.MAIN] if of == 1 else [])  # a lone contact is both
    elif n == 1:
        kinds = [ContactRole.Kind.MAIN]
    else:
        kinds = [OTHER_ROLES[(n - 2) % len(OTHER_ROLES)]]
    contact._seed_roles = kinds  # not a model field: read by _roles once the contact has an id
    return contact


def _roles(contact: Contact) -> list[ContactRole]:
    return [ContactRole(contact_id=contact.pk, organisation_id=contact.organisation_id, role=k)
            for k in contact._seed_roles]


def _insert(model: Any, objs: Sequence[Any]) -> list[Any]:
    """bulk_create, checking the database gave every new row its id (later rows point at them)."""
    objs = list(objs)
    if not objs:
        return objs
    created = model.objects.bulk_create(objs, batch_size=BATCH)
    if all(o.pk is not None for o in created):
        return created
    # SQLite >= 3.35 and PostgreSQL return the new ids; older databases cannot.
    raise CommandError(f"{connection.vendor} did not return ids from a bulk insert; use SQLite >= 3.35 or PostgreSQL.")


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]
