"""The EBS phones view (views/sms_recipient_phones_v_ebs.sql) offers only PER_PHONES types that
can take an SMS, ranked M (mobile) first, and keeps recipient_id the bare to_char(parent_id)
that a function-based index on PER_PHONES can serve (docs/oracle.md, "Every phone of a
person")."""

from __future__ import annotations

import re

from tests.plsql.helpers import PLSQL_DIR

VIEW = (PLSQL_DIR / "views" / "sms_recipient_phones_v_ebs.sql").read_text(encoding="utf-8")
_COMMENT = re.compile(r"--[^\n]*")
SQL = _COMMENT.sub("", VIEW)


def ranks() -> dict[str, int]:
    case = re.search(r"case\s+p\.phone_type(.*?)\bend\s+as\s+type_rank", SQL, re.I | re.S)
    assert case is not None, "the whitelist CASE is missing"
    assert " else " not in f" {case[1].lower()} ", "an ELSE would let every other type in"
    return {m[1]: int(m[2]) for m in re.finditer(r"when\s+'(\w+)'\s+then\s+(\d+)", case[1], re.I)}


def test_the_whitelist_ranks_mobile_first_and_leaves_fax_pager_and_assistant_out() -> None:
    found = ranks()
    assert list(found)[:6] == ["M", "W1", "H1", "W2", "H2", "H3"]
    assert min(found.values()) == found["M"]
    assert sorted(found.values()) == list(found.values())
    assert not {"HF", "WF", "P", "ASST"} & set(found)


def test_only_ranked_types_are_offered_and_ranked_by_type_then_date() -> None:
    assert re.search(r"where\s+ph\.type_rank\s+is\s+not\s+null", SQL, re.I)
    assert re.search(
        r"order\s+by\s+ph\.type_rank,\s*ph\.date_from\s+desc,\s*ph\.phone_id\s+desc", SQL, re.I
    )


def test_recipient_id_is_the_bare_to_char_of_parent_id_and_the_partition_key() -> None:
    # Bare: a function-based index on to_char(parent_id) can serve the lookup. The partition
    # key: Oracle pushes the lookup's predicate past row_number() only on that key.
    select = SQL[SQL.lower().index(") as\nselect") :]
    second = select.split(",\n")[1].strip()
    assert second == "ph.recipient_id"
    assert re.search(r"partition\s+by\s+ph\.recipient_id\b", SQL, re.I)
    assert re.search(r"select\s+to_char\(p\.parent_id\)\s+as\s+recipient_id\b", SQL, re.I)
