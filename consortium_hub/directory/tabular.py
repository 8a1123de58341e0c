"""The columns of the directory's spreadsheets: export writes them, import reads them back."""

from __future__ import annotations

from typing import Any

import tablib

from consortium_hub.directory.models import Contact, Organisation

ORGANISATION_COLUMNS = ("consortium", "legal_name", "public_name", "type", "country", "region", "city", "website",
                        "ror_id", "ringgold_id", "grid_id", "isni", "crossref_funder_id")
CONTACT_COLUMNS = ("organisation", "organisation_ror_id", "name", "email", "phone", "job_title", "orcid_id", "roles")
ROLE_SEPARATOR = ";"


def organisation_row(o: Organisation) -> list[Any]:
    return [o.consortium.name, o.legal_name, o.public_name, o.type, o.country.code, o.region, o.city, o.website,
            o.ror_id, o.ringgold_id, o.grid_id, o.isni, o.crossref_funder_id]


def contact_row(c: Contact) -> list[Any]:
    return [c.organisation.legal_name, c.organisation.ror_id, c.name, c.email, c.phone, c.job_title, c.orcid_id,
            ROLE_SEPARATOR.join(sorted(r.role for r in c.roles.all()))]


def dataset(kind: str, objects: Any) -> tablib.Dataset:
    if kind == "organisations":
        data = tablib.Dataset(headers=list(ORGANISATION_COLUMNS))
        for o in objects:
            data.append(organisation_row(o))
    else:
        data = tablib.Dataset(headers=list(CONTACT_COLUMNS))
        for c in objects:
            data.append(contact_row(c))
    return data
