from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orcid_emulator import is_valid_orcid_id, make_orcid_id, orcid_base_number, orcid_check_digit

# database=None keeps hypothesis from writing a .hypothesis/ directory into the repo root.
quick = settings(database=None, max_examples=300, deadline=None)
bases = st.integers(min_value=0, max_value=10**15 - 1)


@pytest.mark.parametrize("orcid", ["0000-0002-1825-0097", "0000-0002-1694-233X", "0000-0001-5109-3700"])
def test_known_ids_are_valid(orcid: str) -> None:
    assert is_valid_orcid_id(orcid)


def test_check_digit_of_known_ids() -> None:
    assert orcid_check_digit("000000021825009") == "7"
    assert orcid_check_digit("000000021694233") == "X"


def test_make_orcid_id_reproduces_known_ids() -> None:
    assert make_orcid_id(21825009) == "0000-0002-1825-0097"
    assert make_orcid_id(21694233) == "0000-0002-1694-233X"


@pytest.mark.parametrize(
    "value",
    [
        "0000-0002-1825-0098",  # wrong check digit
        "0000-0002-1694-2330",
        "0000-0002-1694-233x",  # ORCID writes X in upper case
        "0000000218250097",
        "0000-0002-1825-009",
        " 0000-0002-1825-0097",
        "0000-0002-1825-0097\n",
        "٠٠٠٠-0002-1825-0097",  # non-ASCII digits
        "https://orcid.org/0000-0002-1825-0097",
        "",
        None,
        21825009,
    ],
)
def test_invalid_ids(value: object) -> None:
    assert not is_valid_orcid_id(value)


@pytest.mark.parametrize("bad", [-1, 10**15])
def test_make_orcid_id_range(bad: int) -> None:
    with pytest.raises(ValueError):
        make_orcid_id(bad)


def test_check_digit_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        orcid_check_digit("12345")


@quick
@given(bases)
def test_generated_ids_always_validate(n: int) -> None:
    orcid = make_orcid_id(n)
    assert is_valid_orcid_id(orcid)
    assert len(orcid) == 19 and orcid.count("-") == 3
    assert orcid_base_number(orcid) == n


@quick
@given(bases, st.integers(min_value=0, max_value=15), st.integers(min_value=1, max_value=10))
def test_any_single_character_change_is_detected(n: int, position: int, delta: int) -> None:
    digits = make_orcid_id(n).replace("-", "")
    alphabet = "0123456789X" if position == 15 else "0123456789"
    replacement = alphabet[(alphabet.index(digits[position]) + delta) % len(alphabet)]
    if replacement == digits[position]:
        return
    mutated = digits[:position] + replacement + digits[position + 1 :]
    assert not is_valid_orcid_id("-".join(mutated[i : i + 4] for i in range(0, 16, 4)))
