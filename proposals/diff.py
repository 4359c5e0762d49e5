"""What changed between two snapshots of a proposal (`services.proposal_snapshot`), field by field.

A pure function of two dicts: no database. Snapshots carry no row ids, so activities are matched
by title and budget lines by description (then category and activity), after identical rows
have been paired off; what is left over was added or removed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from ccop import money

NARRATIVE_FIELDS = (
    ("title", _("Title")),
    ("problem_analysis", _("Problem analysis")),
    ("objectives", _("Objectives")),
    ("target_groups", _("Target rightsholder groups")),
    ("provinces", _("Provinces")),
    ("starts_on", _("Starts on")),
    ("ends_on", _("Ends on")),
    ("budget_option", _("Budget management option")),
    ("phase", _("Phase")),
    ("applicants", _("Applicant organisations")),
)
ACTIVITY_FIELDS = (
    ("title", _("Title")),
    ("description", _("Description")),
    ("starts_on", _("Starts on")),
    ("ends_on", _("Ends on")),
    ("place", _("Place")),
    ("is_primary", _("Primary activity")),
    ("agenda", _("Draft agenda")),
    ("participants", _("Expected participants")),
)
LINE_FIELDS = (
    ("category", _("Category")),
    ("description", _("Description")),
    ("unit", _("Unit")),
    ("quantity", _("Quantity")),
    ("unit_cost", _("Unit cost")),
    ("currency", _("Currency")),
    ("activity", _("Activity")),
    ("total", _("Total")),
)


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class RowChange:
    kind: str  # "added", "removed" or "changed"
    label: str
    fields: tuple[FieldChange, ...] = ()


@dataclass
class SnapshotDiff:
    narrative: list[FieldChange] = field(default_factory=list)
    exchange_rates: list[FieldChange] = field(default_factory=list)
    activities: list[RowChange] = field(default_factory=list)
    budget_lines: list[RowChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.narrative or self.exchange_rates or self.activities or self.budget_lines)


@dataclass(frozen=True)
class Labels:
    """How to show codes to a reader: optional maps from a code to its label."""

    groups: Mapping[str, str] = field(default_factory=dict)
    categories: Mapping[str, str] = field(default_factory=dict)
    budget_options: Mapping[int, str] = field(default_factory=dict)


def snapshot_diff(old: dict, new: dict, labels: Labels | None = None) -> SnapshotDiff:
    labels = labels or Labels()
    return SnapshotDiff(
        narrative=_narrative(old, new, labels),
        exchange_rates=_rates(old.get("exchange_rates") or {}, new.get("exchange_rates") or {}),
        activities=_rows(
            [_activity(a, labels) for a in old.get("activities") or []],
            [_activity(a, labels) for a in new.get("activities") or []],
            ACTIVITY_FIELDS,
            keys=[lambda a: a["title"]],
            label=lambda a: a["title"],
        ),
        budget_lines=_rows(
            [_line(line, old, labels) for line in old.get("budget_lines") or []],
            [_line(line, new, labels) for line in new.get("budget_lines") or []],
            LINE_FIELDS,
            keys=[
                lambda line: (line["description"], line["category"], line["activity"]),
                lambda line: line["description"],
            ],
            label=lambda line: line["description"],
        ),
    )


def _show(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items()) or "—"
    return str(value)


def _narrative(old: dict, new: dict, labels: Labels) -> list[FieldChange]:
    changes = []
    for name, label in NARRATIVE_FIELDS:
        before, after = old.get(name), new.get(name)
        if name == "target_groups":
            before = [labels.groups.get(code, code) for code in before or []]
            after = [labels.groups.get(code, code) for code in after or []]
        elif name == "budget_option":
            before = labels.budget_options.get(before, before)
            after = labels.budget_options.get(after, after)
        if before != after:
            changes.append(FieldChange(str(label), _show(before), _show(after)))
    return changes


def _rates(old: dict, new: dict) -> list[FieldChange]:
    def rate(value):
        return money.format_rate(value) if value not in (None, "") else None

    return [
        FieldChange(currency, _show(rate(old.get(currency))), _show(rate(new.get(currency))))
        for currency in sorted(set(old) | set(new))
        if old.get(currency) != new.get(currency)
    ]


def _activity(activity: dict, labels: Labels) -> dict:
    row = {name: activity.get(name) for name, _label in ACTIVITY_FIELDS}
    row["participants"] = {
        labels.groups.get(code, code): number
        for code, number in sorted((activity.get("participants") or {}).items())
    }
    return row


def _line(line: dict, snapshot: dict, labels: Labels) -> dict:
    """A budget line with its activity by title (the snapshot refers to it by position)."""
    activities = snapshot.get("activities") or []
    index = line.get("activity")
    row = {name: line.get(name) for name, _label in LINE_FIELDS}
    row["activity"] = activities[index]["title"] if index is not None and index < len(activities) else None
    row["category"] = labels.categories.get(line.get("category"), line.get("category"))
    for name in ("unit_cost", "total"):  # money as every page writes it
        if row.get(name) not in (None, ""):
            row[name] = money.format_amount(row[name])
    return row


def _rows(
    old: list[dict],
    new: list[dict],
    fields: tuple,
    *,
    keys: list[Callable[[dict], Hashable]],
    label: Callable[[dict], str],
) -> list[RowChange]:
    """Pair identical rows off, then rows with the same key (changed); the rest was removed or
    added. Order follows the new snapshot, removed rows last."""
    old_left = dict.fromkeys(range(len(old)))  # ordered sets
    new_left = dict.fromkeys(range(len(new)))
    pairs: list[tuple[int, int]] = []
    for key in [_frozen, *keys]:
        by_key: dict[Hashable, list[int]] = defaultdict(list)
        for i in old_left:
            by_key[key(old[i])].append(i)
        for j in list(new_left):
            candidates = by_key.get(key(new[j]))
            if candidates:
                i = candidates.pop(0)
                del old_left[i], new_left[j]
                pairs.append((i, j))
    changes: dict[int, RowChange] = {}
    for i, j in pairs:
        fields_changed = tuple(
            FieldChange(str(name_label), _show(old[i].get(name)), _show(new[j].get(name)))
            for name, name_label in fields
            if old[i].get(name) != new[j].get(name)
        )
        if fields_changed:
            changes[j] = RowChange("changed", label(new[j]), fields_changed)
    for j in new_left:
        changes[j] = RowChange(
            "added",
            label(new[j]),
            tuple(
                FieldChange(str(n), "—", _show(new[j].get(name)))
                for name, n in fields
                if new[j].get(name) not in (None, "", {}, [])
            ),
        )
    ordered = [changes[j] for j in sorted(changes)]
    ordered += [RowChange("removed", label(old[i])) for i in old_left]
    return ordered


def _frozen(row: dict) -> Hashable:
    return tuple(sorted((k, _freeze(v)) for k, v in row.items()))


def _freeze(value) -> Hashable:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value
