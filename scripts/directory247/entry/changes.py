"""What changed between two sets of entries, field by field: ``changes.json`` and ``directory247 diff``.

Owns the comparison (``diff_entries``), its human summary (``summarise``, one line per
State) and the ``changes.json`` object (``to_object``). Pure: it takes the ``to_dict``
trees of the entries, keyed by State code, and returns values; it reads nothing, prints
nothing, and knows nothing of releases, git or files.

How the comparison reads:

- A State present on one side only is one change (``added`` or ``removed``, field ``""``)
  carrying the whole entry.
- Mappings are compared key by key (keys in sorted order, so the result does not depend on
  the key order of whoever built the trees); a key on one side only is ``added`` or
  ``removed``, a differing scalar is ``changed``. ``true`` and ``1`` differ.
- Lists of scalars (e-mails, languages, channels) are compared whole: one ``changed`` with
  both lists, because their order means preference.
- Lists of records (contact points, phones, secure channels, reservations) are matched
  first by equal content, then by identity (a contact point's authority and unit, a phone's
  number, a channel's kind and name, a reservation's article), then by position among what is left,
  so a changed phone number reads ``phones[0].number +4721234567 -> +4721234568`` and a
  contact point added in front does not make every later one look changed. What stays
  unmatched is ``added`` (new index) or ``removed`` (old index). A record whose place
  changed relative to the others is one ``moved`` change (``old``/``new`` are its old and
  new index); changes inside a matched record use its new index.

The summary quotes any text that is empty, has white space, a quote, ``;`` or a character
that is not printable, and escapes the non-printable ones, so a line is safe to show on a
terminal or in a feed whatever an entry holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"
MOVED = "moved"


@dataclass(frozen=True)
class Change:
    """One difference. ``field`` is a path such as ``contact_points[0].phones[0].number``;
    ``""`` means the whole entry. ``old`` is None when added, ``new`` None when removed
    (entries never hold a null, so None always means "absent")."""

    code: str
    field: str
    kind: str  # ADDED | REMOVED | CHANGED | MOVED
    old: Any = None
    new: Any = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "field": self.field, "kind": self.kind}
        if self.kind != ADDED:
            out["old"] = self.old
        if self.kind != REMOVED:
            out["new"] = self.new
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Change:
        return cls(code=d["code"], field=d["field"], kind=d["kind"], old=d.get("old"), new=d.get("new"))


def _canon(value: Any) -> str:
    """A strict, hashable form for comparing trees: ``True`` and ``1`` stay different."""
    return json.dumps(value, sort_keys=True, ensure_ascii=True)


def _identity_key(list_name: str) -> Callable[[Mapping[str, Any]], Any] | None:
    keys: dict[str, Callable[[Mapping[str, Any]], Any]] = {
        "contact_points": lambda cp: (cp.get("authority"), cp.get("unit")),
        "phones": lambda p: p.get("number"),
        "secure_channels": lambda c: (c.get("channel"), c.get("name")),
        "reservations": lambda r: r.get("article"),
    }
    return keys.get(list_name)


def diff_entries(old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]) -> list[Change]:
    """Every change from ``old`` to ``new`` (State code -> ``Entry.to_dict()``), by State code."""
    changes: list[Change] = []
    for code in sorted(set(old) | set(new)):
        if code not in new:
            changes.append(Change(code, "", REMOVED, old=dict(old[code])))
        elif code not in old:
            changes.append(Change(code, "", ADDED, new=dict(new[code])))
        else:
            changes.extend(_diff(code, "", old[code], new[code]))
    return changes


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _diff(code: str, path: str, a: Any, b: Any) -> Iterator[Change]:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key in sorted(set(a) | set(b)):
            where = _join(path, key)
            if key not in b:
                yield Change(code, where, REMOVED, old=a[key])
            elif key not in a:
                yield Change(code, where, ADDED, new=b[key])
            else:
                yield from _diff(code, where, a[key], b[key])
    elif (isinstance(a, list) and isinstance(b, list) and (a or b)
          and all(isinstance(x, Mapping) for x in (*a, *b))):
        yield from _diff_records(code, path, a, b)
    elif _canon(a) != _canon(b):
        yield Change(code, path, CHANGED, old=a, new=b)


def _list_name(path: str) -> str:
    return path.rsplit(".", 1)[-1]


def _match(a: Sequence[Any], b: Sequence[Any], key: Callable[[Mapping[str, Any]], Any] | None,
           ) -> list[tuple[int, int]]:
    """Pairs (old index, new index): equal content first, then identity, then position."""
    pairs: list[tuple[int, int]] = []
    free_a = list(range(len(a)))
    free_b = list(range(len(b)))

    def pair_by(same: Callable[[int, int], bool]) -> None:
        for j in list(free_b):
            i = next((i for i in free_a if same(i, j)), None)
            if i is not None:
                pairs.append((i, j))
                free_a.remove(i)
                free_b.remove(j)

    canon_a = [_canon(x) for x in a]
    canon_b = [_canon(x) for x in b]
    pair_by(lambda i, j: canon_a[i] == canon_b[j])
    if key is not None:
        pair_by(lambda i, j: _canon(key(a[i])) == _canon(key(b[j])))
    pairs.extend(zip(free_a, free_b, strict=False))
    return sorted(pairs, key=lambda p: p[1])


def _stay_in_order(old_indices: Sequence[int]) -> set[int]:
    """Old indices of the longest run that kept its relative order; the rest moved."""
    n = len(old_indices)
    best = [1] * n
    before = [-1] * n
    for j in range(n):
        for i in range(j):
            if old_indices[i] < old_indices[j] and best[i] + 1 > best[j]:
                best[j], before[j] = best[i] + 1, i
    keep: set[int] = set()
    j = max(range(n), key=lambda k: best[k], default=-1)
    while j >= 0:
        keep.add(old_indices[j])
        j = before[j]
    return keep


def _diff_records(code: str, path: str, a: Sequence[Any], b: Sequence[Any]) -> Iterator[Change]:
    pairs = _match(a, b, _identity_key(_list_name(path)))
    matched_a = {i for i, _ in pairs}
    matched_b = {j for _, j in pairs}
    for i in range(len(a)):
        if i not in matched_a:
            yield Change(code, f"{path}[{i}]", REMOVED, old=a[i])
    stayed = _stay_in_order([i for i, _ in pairs])
    by_new = dict((j, i) for i, j in pairs)
    for j in range(len(b)):
        if j not in matched_b:
            yield Change(code, f"{path}[{j}]", ADDED, new=b[j])
            continue
        i = by_new[j]
        if i not in stayed:
            yield Change(code, f"{path}[{j}]", MOVED, old=i, new=j)
        yield from _diff(code, f"{path}[{j}]", a[i], b[j])


# --------------------------------------------------------------------------- summary


def _quote(text: str) -> str:
    out = ['"']
    for c in text:
        if c in ('"', "\\"):
            out.append("\\" + c)
        elif c.isprintable():
            out.append(c)
        elif ord(c) <= 0xFFFF:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(f"\\U{ord(c):08x}")
    out.append('"')
    return "".join(out)


def show(value: Any) -> str:
    """A value as a short, terminal-safe phrase."""
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        plain = value and value.isprintable() and not any(c.isspace() or c in '";\\' for c in value)
        return value if plain else _quote(value)
    if isinstance(value, list):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return _show_record(value)
    return _quote(str(value))


def _show_record(record: Mapping[str, Any]) -> str:
    if "authority" in record and "role" in record:
        unit = f" / {show(record['unit'])}" if "unit" in record else ""
        return f"{show(record['role'])} contact point {show(record['authority'])}{unit}"
    if set(record) == {"number", "kind"}:
        return f"{show(record['kind'])} {show(record['number'])}"
    if "channel" in record:
        return show(record["channel"]) + (f" {show(record['address'])}" if "address" in record else "")
    if "article" in record:
        return f"Art. {show(record['article'])}"
    if "name" in record:  # a related authority
        return show(record["name"])
    text = json.dumps(record, sort_keys=True, ensure_ascii=True)  # ASCII: nothing unprintable survives
    return text if len(text) <= 120 else text[:117] + "..."


def describe(change: Change) -> str:
    """One change as a phrase, without its State code."""
    if change.field == "":
        entry = change.new if change.kind == ADDED else change.old
        facts = entry if isinstance(entry, Mapping) else {}
        return f"State {change.kind} ({show(facts.get('name'))}, serial {show(facts.get('serial'))})"
    if change.kind == ADDED:
        return f"{change.field} added {show(change.new)}"
    if change.kind == REMOVED:
        return f"{change.field} removed {show(change.old)}"
    if change.kind == MOVED:
        return f"{change.field.rsplit('[', 1)[0]}[{change.old}] moved to [{change.new}]"
    return f"{change.field} {show(change.old)} -> {show(change.new)}"


def summarise(changes: Sequence[Change]) -> list[str]:
    """One line per State with changes, sorted by code: ``NO: field old -> new; serial 4 -> 5``."""
    by_code: dict[str, list[str]] = {}
    for change in changes:
        by_code.setdefault(change.code, []).append(describe(change))
    return [f"{code}: " + "; ".join(by_code[code]) for code in sorted(by_code)]


def counts(changes: Sequence[Change]) -> dict[str, int]:
    """How many States were added, removed and changed, and how many field changes there are."""
    whole = {(c.code, c.kind) for c in changes if c.field == ""}
    touched = {c.code for c in changes if c.field != ""}
    return {
        "states_added": sum(1 for _, kind in whole if kind == ADDED),
        "states_removed": sum(1 for _, kind in whole if kind == REMOVED),
        "states_changed": len(touched),
        "field_changes": sum(1 for c in changes if c.field != ""),
    }


def to_object(changes: Sequence[Change], from_version: str | None, to_version: str) -> dict[str, Any]:
    """``changes.json``: ``from`` (None for the first release), ``to``, ``counts``, every
    change, and the summary lines."""
    return {
        "from": from_version,
        "to": to_version,
        "counts": counts(changes),
        "changes": [c.to_dict() for c in changes],
        "summary": summarise(changes),
    }
