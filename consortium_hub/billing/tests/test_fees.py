"""Fee schedules: create, copy from the last one, rates, the 3% licence-rise flag, access, pages and API."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from consortium_hub.billing.models import FeeKind, FeeRate, FeeSchedule
from consortium_hub.billing.selectors import fees as selectors
from consortium_hub.billing.services import fees as services
from consortium_hub.core.money import FloatNotAllowed
from consortium_hub.core.roles import MFA_REQUIRED_ROLES, Role
from consortium_hub.core.testing import factories as f
from consortium_hub.core.testing.queries import api_rows, assert_constant_queries, html_rows

pytestmark = pytest.mark.django_db

LIC_BASIC, LIC_PREMIUM = ("licence", "basic", ""), ("licence", "premium", "")
SIZES = ("small", "standard", "large")


def rates(licence_basic: str = "1000.00", licence_premium: str = "2000.00", consortium: str = "100.00",
          overrides: dict | None = None) -> dict:
    """Every rate: licence fees by tier, consortium fees by tier and size (premium = 2 × basic)."""
    table = {LIC_BASIC: Decimal(licence_basic), LIC_PREMIUM: Decimal(licence_premium)}
    for i, size in enumerate(SIZES):
        table[("consortium", "basic", size)] = Decimal(consortium) * (i + 1)
        table[("consortium", "premium", size)] = Decimal(consortium) * (i + 1) * 2
    table.update(overrides or {})
    return table


def user_with(role: str, *, consortium: Any = None, organisation: Any = None, name: str = "") -> Any:
    """A user holding one role; roles that need a second factor get TOTP (the MFA middleware lets them in)."""
    user = f.UserFactory(email=f"{name or role}@roles.example")
    f.RoleAssignmentFactory(user=user, role=role, consortium=consortium, organisation=organisation)
    if role in MFA_REQUIRED_ROLES:
        TOTP.activate(user, generate_totp_secret())
    return user


def schedule_for(cast: Any, year: int, consortium: Any = None, **kwargs: Any) -> FeeSchedule:
    consortium = consortium or cast.consortium_a
    who = cast["lead_admin_a"] if consortium == cast.consortium_a else cast["orcid_admin"]
    kwargs.setdefault("rates", rates())
    kwargs.setdefault("size_band", FeeSchedule.SizeBand.BAND_1)
    return services.fee_schedule_create(user=who, consortium=consortium, year=year, **kwargs)


@pytest.fixture
def orcid_finance(db):
    return user_with(Role.ORCID_FINANCE, name="orcid_finance")


@pytest.fixture
def lead_finance_a(cast):
    return user_with(Role.LEAD_FINANCE, consortium=cast.consortium_a, name="lead_finance_a")


# --- Services --------------------------------------------------------------------------------------

def test_create_defaults_to_the_lead_currency_and_keeps_rates_as_decimals(cast):
    schedule = schedule_for(cast, 2026)
    assert schedule.consortium_fee_currency == "GBP"
    stored = FeeRate.objects.get(schedule=schedule, kind=FeeKind.LICENCE, tier="basic")
    assert stored.amount == Decimal("1000.00") and isinstance(stored.amount, Decimal)
    assert len(selectors.rates_by_key(schedule)) == 8
    table = selectors.rate_table(schedule)
    assert [row.tier_label for row in table] == ["Basic", "Premium"]
    assert table[1].licence == Decimal("2000.00")
    assert table[1].consortium == [Decimal("200.00"), Decimal("400.00"), Decimal("600.00")]


def test_copy_starts_from_the_last_schedule_before_the_year(cast):
    schedule_for(cast, 2023, rates=rates(licence_basic="900.00"))
    last = schedule_for(cast, 2024, size_band=FeeSchedule.SizeBand.BAND_2, consortium_fee_currency="EUR",
                        rates=rates(licence_basic="950.00", consortium="70.00"))
    copy = services.fee_schedule_copy(user=cast["lead_admin_a"], consortium=cast.consortium_a, year=2026)
    assert (copy.year, copy.size_band, copy.consortium_fee_currency) == (2026, "11-20", "EUR")
    assert selectors.rates_by_key(copy) == selectors.rates_by_key(last)
    assert selectors.previous_schedule(copy) == last
    # The copy is a new set of rows: changing it leaves last year's alone.
    services.fee_schedule_update(user=cast["lead_admin_a"], schedule=copy, rates={LIC_BASIC: "990.00"})
    assert selectors.rates_by_key(last)[LIC_BASIC] == Decimal("950.00")


def test_copy_needs_an_earlier_schedule_and_a_free_year(cast):
    with pytest.raises(ValidationError) as missing:
        services.fee_schedule_copy(user=cast["lead_admin_a"], consortium=cast.consortium_a, year=2026)
    assert "year" in missing.value.message_dict
    schedule_for(cast, 2025)
    schedule_for(cast, 2026)
    with pytest.raises(ValidationError) as taken:
        services.fee_schedule_copy(user=cast["lead_admin_a"], consortium=cast.consortium_a, year=2026)
    assert "__all__" in taken.value.message_dict or "year" in taken.value.message_dict
    assert FeeSchedule.objects.filter(consortium=cast.consortium_a, year=2026).count() == 1


def test_licence_rise_over_three_percent_is_flagged_not_refused(cast):
    schedule_for(cast, 2025)  # basic 1000, premium 2000
    next_year = services.fee_schedule_copy(user=cast["lead_admin_a"], consortium=cast.consortium_a, year=2026)
    assert selectors.licence_rises(next_year) == []
    # +3.00% exactly is fine; +3.10% is flagged; a fall never is.
    services.fee_schedule_update(user=cast["lead_admin_a"], schedule=next_year,
                                 rates={LIC_BASIC: "1030.00", LIC_PREMIUM: "1500.00"})
    assert selectors.licence_rises(next_year) == []
    services.fee_schedule_update(user=cast["lead_admin_a"], schedule=next_year, rates={LIC_BASIC: "1031.00"})
    [rise] = selectors.licence_rises(next_year)
    assert (rise.tier, rise.previous_year, rise.previous, rise.current, rise.percent) == (
        "basic", 2025, Decimal("1000.00"), Decimal("1031.00"), Decimal("3.10"))
    assert "3.10%" in rise.message
    assert selectors.rates_by_key(next_year)[LIC_BASIC] == Decimal("1031.00")  # saved all the same
    # Consortium fees are the lead's business: no flag however much they rise.
    services.fee_schedule_update(user=cast["lead_admin_a"], schedule=next_year,
                                 rates={("consortium", "basic", "small"): "900.00"})
    assert [r.tier for r in selectors.licence_rises(next_year)] == ["basic"]
    # The list computes the same flags for many schedules at once.
    assert selectors.licence_rises_for([next_year])[next_year.pk] == [rise]


def test_rise_compares_with_the_latest_earlier_schedule(cast):
    schedule_for(cast, 2022, rates=rates(licence_basic="500.00"))
    schedule_for(cast, 2024, rates=rates(licence_basic="1000.00"))
    later = schedule_for(cast, 2026, rates=rates(licence_basic="1020.00"))
    assert selectors.licence_rises(later) == []
    assert selectors.licence_rises_for([later]) == {later.pk: []}


def test_rates_are_set_removed_and_checked_against_their_currency(cast):
    schedule = schedule_for(cast, 2026)
    user = cast["lead_admin_a"]
    services.fee_schedule_update(user=user, schedule=schedule, rates={("consortium", "premium", "large"): None})
    assert ("consortium", "premium", "large") not in selectors.rates_by_key(schedule)
    with pytest.raises(ValidationError) as finer:
        services.fee_schedule_update(user=user, schedule=schedule, rates={LIC_BASIC: "1000.005"})
    assert "licence_basic" in finer.value.message_dict
    with pytest.raises(ValidationError) as negative:
        services.fee_schedule_update(user=user, schedule=schedule, rates={("consortium", "basic", "small"): "-1"})
    assert "consortium_basic_small" in negative.value.message_dict
    with pytest.raises(ValidationError) as unknown:
        services.fee_schedule_update(user=user, schedule=schedule, rates={("licence", "basic", "large"): "1"})
    assert "rates" in unknown.value.message_dict
    # JPY has no minor unit: pence-precise consortium fees cannot move to it.
    services.fee_schedule_update(user=user, schedule=schedule, rates={("consortium", "basic", "small"): "100.50"})
    with pytest.raises(ValidationError) as jpy:
        services.fee_schedule_update(user=user, schedule=schedule, consortium_fee_currency="JPY")
    assert "consortium_basic_small" in jpy.value.message_dict
    with pytest.raises(ValidationError) as bad_currency:
        services.fee_schedule_update(user=user, schedule=schedule, consortium_fee_currency="XXQ")
    assert "consortium_fee_currency" in bad_currency.value.message_dict
    schedule.refresh_from_db()
    assert schedule.consortium_fee_currency == "GBP"
    with pytest.raises(FloatNotAllowed):
        services.fee_schedule_update(user=user, schedule=schedule, rates={LIC_BASIC: 1000.5})


def test_who_may_write_schedules(cast, orcid_finance, lead_finance_a):
    schedule = schedule_for(cast, 2026)
    services.fee_schedule_update(user=lead_finance_a, schedule=schedule, rates={LIC_BASIC: "1001.00"})
    for outsider in (orcid_finance, cast["lead_admin_b"], cast["lead_support_a"], cast["member_contact_a"],
                     cast["engagement_lead"]):
        with pytest.raises(PermissionDenied):
            services.fee_schedule_create(user=outsider, consortium=cast.consortium_a, year=2027)
        with pytest.raises(PermissionDenied):
            services.fee_schedule_update(user=outsider, schedule=schedule, rates={LIC_BASIC: "1.00"})
    with pytest.raises(PermissionDenied):
        services.fee_schedule_copy(user=cast["lead_admin_b"], consortium=cast.consortium_a, year=2027)


def test_who_sees_schedules(cast, orcid_finance, lead_finance_a):
    a = schedule_for(cast, 2026)
    b = schedule_for(cast, 2026, consortium=cast.consortium_b)

    def visible(user):
        return set(selectors.fee_schedule_list(user=user))

    assert visible(orcid_finance) == visible(cast["orcid_admin"]) == {a, b}
    assert visible(cast["lead_admin_a"]) == visible(lead_finance_a) == {a}
    assert visible(cast["lead_admin_b"]) == {b}
    for nobody in ("lead_support_a", "member_contact_a", "engagement_lead", "orcid_support"):
        assert visible(cast[nobody]) == set(), nobody


def test_delete_only_what_nothing_was_invoiced_from(cast):
    from consortium_hub.billing.services.cycles import cycle_commit

    spare = schedule_for(cast, 2030)
    services.fee_schedule_delete(user=cast["lead_admin_a"], schedule=spare)
    assert not FeeSchedule.objects.filter(pk=spare.pk).exists()
    used = schedule_for(cast, 2026)
    cycle_commit(user=cast["lead_admin_a"], consortium=cast.consortium_a, year=2026)
    with pytest.raises(ValidationError):
        services.fee_schedule_delete(user=cast["lead_admin_a"], schedule=used)


# --- Pages -----------------------------------------------------------------------------------------

def test_create_page_copies_and_leads_to_the_rates_form(cast, client_for):
    schedule_for(cast, 2025)
    client = client_for(cast["lead_admin_a"])
    response = client.post(reverse("billing:fee_schedule_create"),
                           {"consortium": cast.consortium_a.pk, "year": 2026, "copy_last": "on"})
    copy = FeeSchedule.objects.get(consortium=cast.consortium_a, year=2026)
    assert response.status_code == 302 and response["Location"] == reverse("billing:fee_schedule_edit",
                                                                          args=[copy.pk])
    assert len(selectors.rates_by_key(copy)) == 8
    fresh = client.post(reverse("billing:fee_schedule_create"),
                        {"consortium": cast.consortium_a.pk, "year": 2027, "size_band": "21-50",
                         "consortium_fee_currency": "usd"})
    assert fresh.status_code == 302
    assert FeeSchedule.objects.get(consortium=cast.consortium_a, year=2027).consortium_fee_currency == "USD"
    again = client.post(reverse("billing:fee_schedule_create"),
                        {"consortium": cast.consortium_a.pk, "year": 2027})
    assert again.status_code == 200 and b"already exists" in again.content
    # Lead B's form offers only consortium B.
    form = client_for(cast["lead_admin_b"]).get(reverse("billing:fee_schedule_create")).context["form"]
    assert list(form.fields["consortium"].queryset) == [cast.consortium_b]


def test_edit_page_sets_every_rate_and_the_detail_page_flags_the_rise(cast, client_for):
    schedule_for(cast, 2025)
    schedule = services.fee_schedule_copy(user=cast["lead_admin_a"], consortium=cast.consortium_a, year=2026)
    client = client_for(cast["lead_admin_a"])
    url = reverse("billing:fee_schedule_edit", args=[schedule.pk])
    form = client.get(url).context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data |= {"licence_basic": "1100.00", "consortium_premium_large": ""}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    stored = selectors.rates_by_key(schedule)
    assert stored[LIC_BASIC] == Decimal("1100.00") and ("consortium", "premium", "large") not in stored
    page = client.get(reverse("billing:fee_schedule_detail", args=[schedule.pk]))
    assert b"rises 10.00%" in page.content
    listing = client.get(reverse("billing:fee_schedule_list"))
    assert b"Basic licence +10.00%" in listing.content
    finer = client.post(url, data | {"consortium_basic_small": "10.001"})
    assert finer.status_code == 200 and "consortium_basic_small" in finer.context["form"].errors
    history = client.get(reverse("billing:fee_schedule_history", args=[schedule.pk]))
    assert history.status_code == 200 and b"1100.00" in history.content


def test_orcid_finance_reads_but_cannot_edit(cast, client_for, orcid_finance):
    schedule = schedule_for(cast, 2026)
    client = client_for(orcid_finance)
    assert client.get(reverse("billing:fee_schedule_list")).status_code == 200
    detail = client.get(reverse("billing:fee_schedule_detail", args=[schedule.pk]))
    assert detail.status_code == 200 and b"Edit rates" not in detail.content
    assert client.get(reverse("billing:fee_schedule_edit", args=[schedule.pk])).status_code == 403
    assert client.get(reverse("billing:fee_schedule_create")).status_code == 403


# --- API -------------------------------------------------------------------------------------------

def test_api_create_copy_update_and_delete(cast, api_for):
    api = api_for(cast["lead_admin_a"])
    url = reverse("api:fee-schedule-list")
    body = {"consortium": cast.consortium_a.pk, "year": 2025, "size_band": "5-10",
            "rates": [{"kind": "licence", "tier": "basic", "amount": "1000.00"},
                      {"kind": "consortium", "tier": "basic", "size": "small", "amount": "120.50"}]}
    created = api.post(url, body, format="json")
    assert created.status_code == 201, created.data
    assert created.data["consortium_fee_currency"] == "GBP" and created.data["licence_currency"] == "USD"
    assert {(r["kind"], r["tier"], r["size"], r["amount"]) for r in created.data["rates"]} == {
        ("licence", "basic", "", "1000.00"), ("consortium", "basic", "small", "120.50")}
    assert api.post(url, body, format="json").status_code == 400  # one schedule per year

    copy = api.post(reverse("api:fee-schedule-copy"), {"consortium": cast.consortium_a.pk, "year": 2026},
                    format="json")
    assert copy.status_code == 201 and copy.data["warnings"] == []
    detail = reverse("api:fee-schedule-detail", args=[copy.data["id"]])
    # The rates sent replace the set: the consortium fee left out is removed; +5% is a warning, not an error.
    patched = api.patch(detail, {"rates": [{"kind": "licence", "tier": "basic", "amount": "1050.00"}]},
                        format="json")
    assert patched.status_code == 200, patched.data
    assert [(r["kind"], r["amount"]) for r in patched.data["rates"]] == [("licence", "1050.00")]
    [warning] = patched.data["warnings"]
    assert (warning["code"], warning["tier"], warning["percent"]) == ("licence_fee_rise", "basic", "5.00")
    listed = api.get(url, {"year": 2026})
    assert [w["percent"] for w in listed.data["results"][0]["warnings"]] == ["5.00"]
    assert api.patch(detail, {"rates": [{"kind": "licence", "tier": "basic", "size": "large", "amount": "1"}]},
                     format="json").status_code == 400
    assert api.patch(detail, {"year": 2027}, format="json").status_code == 400
    assert api.patch(detail, {"consortium_fee_currency": "usd"}, format="json").data["consortium_fee_currency"] == "USD"
    assert api.delete(detail).status_code == 204
    assert not FeeSchedule.objects.filter(pk=copy.data["id"]).exists()


def test_api_scoping(cast, api_for, orcid_finance):
    a = schedule_for(cast, 2026)
    detail = reverse("api:fee-schedule-detail", args=[a.pk])
    assert api_for(cast["lead_admin_b"]).get(detail).status_code == 404
    assert api_for(cast["lead_admin_b"]).post(reverse("api:fee-schedule-list"), {
        "consortium": cast.consortium_a.pk, "year": 2027}, format="json").status_code == 400  # not a choice
    assert api_for(orcid_finance).get(detail).status_code == 200
    assert api_for(orcid_finance).patch(detail, {"size_band": "51+"}, format="json").status_code == 403
    assert api_for(cast["member_contact_a"]).get(reverse("api:fee-schedule-list")).data["results"] == []


# --- Query counts: the list page and API list do not grow with the rows ------------------------------

_years = itertools.count(2000)


def add_schedules(cast: Any, n: int) -> None:
    """n schedules of consortium A in consecutive years, each with licence and consortium rates."""
    schedules = FeeSchedule.objects.bulk_create([
        FeeSchedule(consortium=cast.consortium_a, year=next(_years), consortium_fee_currency="GBP")
        for _ in range(n)])
    FeeRate.objects.bulk_create([
        FeeRate(schedule=s, kind=kind, tier=tier, size=size, amount=Decimal(1000 + s.year))
        for s in schedules for kind, tier, size in (LIC_BASIC, LIC_PREMIUM, ("consortium", "basic", "small"))])


@pytest.mark.parametrize("who", ["orcid_admin", "lead_admin_a"])
def test_fee_schedule_list_page_queries_are_constant(cast, client_for, who):
    client = client_for(cast[who])
    assert_constant_queries(lambda n: add_schedules(cast, n),
                            lambda: client.get(reverse("billing:fee_schedule_list") + "?per_page=100"),
                            shown=html_rows, few=5, many=50)


@pytest.mark.parametrize("who", ["orcid_admin", "lead_admin_a"])
def test_fee_schedule_api_list_queries_are_constant(cast, api_for, who):
    api = api_for(cast[who])
    assert_constant_queries(lambda n: add_schedules(cast, n), lambda: api.get(reverse("api:fee-schedule-list")),
                            shown=api_rows, few=5, many=50)
