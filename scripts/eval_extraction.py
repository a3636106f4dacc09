"""Precision and recall of entity and relation extraction on the case table.

Scores ``cortex.core.extraction.extract`` against ``tests/unit/extraction_cases.py`` (the
table the unit tests assert on) and prints one row per entity type, per relation type,
and overall. An entity counts as found when its displayed name and its type both match;
a relation when source, type and target match (``related_to`` in either direction, since
it has none).

    .venv/bin/python scripts/eval_extraction.py [--misses]

The last rows score only the held-out cases: sentences written after the extractor was
fixed against the rest, and not used to change it.
"""

from __future__ import annotations

import argparse
import collections
from collections.abc import Iterable
from dataclasses import dataclass, field

from cortex.core.extraction import ENTITY_TYPES, RELATION_TYPES, configured_tools, extract
from cortex.core.extraction import entity_key as key
from tests.unit.extraction_cases import CASES, Case

Item = tuple[str, ...]


@dataclass
class Score:
    """Counts for one row of the table."""

    correct: int = 0
    wrong: int = 0  # found, not expected
    missed: int = 0  # expected, not found

    @property
    def precision(self) -> float:
        found = self.correct + self.wrong
        return self.correct / found if found else 1.0

    @property
    def recall(self) -> float:
        expected = self.correct + self.missed
        return self.correct / expected if expected else 1.0


@dataclass
class Evaluation:
    """Scores per entity type, per relation type and overall, with every mistake."""

    entities: dict[str, Score] = field(default_factory=lambda: collections.defaultdict(Score))
    relations: dict[str, Score] = field(
        default_factory=lambda: collections.defaultdict(Score))
    mistakes: list[tuple[str, str, Item]] = field(default_factory=list)

    def total(self, table: dict[str, Score]) -> Score:
        return Score(sum(s.correct for s in table.values()), sum(s.wrong for s in table.values()),
                     sum(s.missed for s in table.values()))


def found_items(case: Case) -> tuple[set[Item], set[Item]]:
    """What the extractor finds: ``(name, type)`` entities, ``(source, type, target)``
    relations with sources and targets as keys (``related_to`` in a canonical order)."""
    tools = configured_tools(case.tools) if case.tools else None
    result = extract(case.text, case.explicit, tools)
    entities = {(e.name, e.type) for e in result.entities}
    return entities, {_relation(r.source, r.type, r.target) for r in result.relations}


def expected_items(case: Case) -> tuple[set[Item], set[Item]]:
    return (set(case.entities),
            {_relation(key(s), kind, key(t)) for s, kind, t in case.relations})


def _relation(source: str, kind: str, target: str) -> Item:
    if kind == "related_to" and target < source:
        source, target = target, source
    return source, kind, target


def evaluate(cases: Iterable[Case] = CASES) -> Evaluation:
    evaluation = Evaluation()
    for case in cases:
        found_entities, found_relations = found_items(case)
        want_entities, want_relations = expected_items(case)
        _count(evaluation.entities, evaluation.mistakes, case.text, found_entities,
               want_entities, kind_at=1)
        _count(evaluation.relations, evaluation.mistakes, case.text, found_relations,
               want_relations, kind_at=1)
    return evaluation


def _count(table: dict[str, Score], mistakes: list[tuple[str, str, Item]], text: str,
           found: set[Item], wanted: set[Item], kind_at: int) -> None:
    for item in found & wanted:
        table[item[kind_at]].correct += 1
    for item in sorted(found - wanted):
        table[item[kind_at]].wrong += 1
        mistakes.append((text, "wrong", item))
    for item in sorted(wanted - found):
        table[item[kind_at]].missed += 1
        mistakes.append((text, "missed", item))


def table(evaluation: Evaluation) -> str:
    """The scores as a Markdown table."""
    lines = ["| what | expected | found | correct | precision | recall |",
             "|---|---:|---:|---:|---:|---:|"]

    def row(label: str, score: Score) -> None:
        lines.append(f"| {label} | {score.correct + score.missed} | "
                     f"{score.correct + score.wrong} | {score.correct} | "
                     f"{score.precision:.3f} | {score.recall:.3f} |")

    for kind in ENTITY_TYPES:
        if kind in evaluation.entities:
            row(f"entity: {kind}", evaluation.entities[kind])
    row("**entities, overall**", evaluation.total(evaluation.entities))
    for kind in RELATION_TYPES:
        if kind in evaluation.relations:
            row(f"relation: {kind}", evaluation.relations[kind])
    row("**relations, overall**", evaluation.total(evaluation.relations))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--misses", action="store_true", help="list every mistake")
    args = parser.parse_args()
    evaluation = evaluate()
    print(f"{len(CASES)} cases\n")
    print(table(evaluation))
    held_out = [case for case in CASES if case.held_out]
    split = evaluate(held_out)
    print(f"\nheld out ({len(held_out)} cases written after the extractor was fixed):\n")
    print("\n".join(table(split).splitlines()[:2] + [
        line for line in table(split).splitlines() if "overall" in line]))
    if args.misses:
        for text, verdict, item in evaluation.mistakes:
            print(f"\n{verdict:6} {item}\n       in: {text}")


if __name__ == "__main__":
    main()
