"""Entity graph reads, on reader connections, strictly within one tenant.

Edges are walked in both directions (a neighbour is a neighbour whichever way the
relation points). Walks are recursive CTEs over ``(entity, depth)`` rows: ``UNION``
drops repeated rows and the depth bound ends every cycle; a row bound keeps a walk
from a hub entity finite. Shortest paths take the walk's depths and step back from the
target along strictly decreasing depth, so the path is a shortest one.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from cortex.core.extraction import entity_key
from cortex.core.timeutil import from_micros
from cortex.db.queries import snapshot
from cortex.db.rows import FACT_COLUMNS, fact_from_row, row_dict
from cortex.db.verified import ReadVerifier
from cortex.errors import EntityNotFound
from cortex.model import Edge, Entity, EntityFacts, Graph

ENTITY_COLUMNS = "id, project, name, type, mentions, first_seen, last_seen"
#: rows a walk may produce before it stops expanding (hubs make walks explode)
MAX_WALK_ROWS = 200_000
#: a neighbourhood of N nodes stops its walk after this many rows per node asked for,
#: and lists at most this many edges per node (the heaviest first)
WALK_ROWS_PER_NODE = 20
EDGES_PER_NODE = 4

_WALK = """
WITH RECURSIVE walk(id, depth) AS (
    SELECT value, 0 FROM json_each(:starts)
    UNION
    SELECT r.target, walk.depth + 1 FROM walk JOIN relations r ON r.source = walk.id
    WHERE walk.depth < :depth AND r.weight > 0 AND (:relation IS NULL OR r.type = :relation)
    UNION
    SELECT r.source, walk.depth + 1 FROM walk JOIN relations r ON r.target = walk.id
    WHERE walk.depth < :depth AND r.weight > 0 AND (:relation IS NULL OR r.type = :relation)
    LIMIT :rows
)
SELECT id, min(depth) FROM walk GROUP BY id ORDER BY 2, 1
"""


def _entity(row: Sequence[Any], depth: int | None = None) -> Entity:
    id_, project, name, kind, mentions, first_seen, last_seen = row
    return Entity(id=int(id_), project=str(project), name=str(name), type=str(kind),
                  mentions=int(mentions), first_seen=from_micros(int(first_seen)),
                  last_seen=from_micros(int(last_seen)), depth=depth)


def resolve(
    conn: sqlite3.Connection, tenant: str, name_or_id: str | int, project: str | None = None,
    projects: Sequence[str] | None = None,
) -> list[int]:
    """Entity ids a name (in every project, or one) or an id stands for; ``projects``
    limits the answer to the projects a caller may see.

    Raises:
        EntityNotFound: nothing of that name or id in this tenant (and those projects).
    """
    scope = None if projects is None else json.dumps(list(projects))
    by_id = isinstance(name_or_id, int) or str(name_or_id).isdigit()
    rows = conn.execute(
        "SELECT id FROM entities WHERE tenant = ? AND mentions > 0"
        + (" AND id = ?" if by_id else " AND key = ?")
        + " AND (? IS NULL OR project = ?)"
        " AND (? IS NULL OR project IN (SELECT value FROM json_each(?))) ORDER BY id",
        (tenant, int(name_or_id) if by_id else entity_key(str(name_or_id)), project, project,
         scope, scope)).fetchall()
    if not rows:
        raise EntityNotFound(str(name_or_id))
    return [row[0] for row in rows]


def list_entities(
    conn: sqlite3.Connection, tenant: str, project: str | None, q: str | None,
    kind: str | None, limit: int, offset: int, projects: Sequence[str] | None = None,
) -> list[Entity]:
    """Entities by mentions (most first); ``q`` matches inside the normalized name."""
    pattern = None if not q else "%" + _escape_like(entity_key(q)) + "%"
    scope = None if projects is None else json.dumps(list(projects))
    rows = conn.execute(
        f"SELECT {ENTITY_COLUMNS} FROM entities WHERE tenant = ? AND mentions > 0"
        " AND (? IS NULL OR project = ?) AND (? IS NULL OR type = ?)"
        " AND (? IS NULL OR key LIKE ? ESCAPE '\\')"
        " AND (? IS NULL OR project IN (SELECT value FROM json_each(?)))"
        " ORDER BY mentions DESC, key, id LIMIT ? OFFSET ?",
        (tenant, project, project, kind, kind, pattern, pattern, scope, scope, limit,
         offset)).fetchall()
    return [_entity(row) for row in rows]


def entity_facts(
    conn: sqlite3.Connection, verifier: ReadVerifier, tenant: str, name_or_id: str | int,
    project: str | None, limit: int, projects: Sequence[str] | None = None,
) -> list[EntityFacts]:
    """Each entity a name stands for, with the live facts that mention it (newest first)."""
    with snapshot(conn):
        found: list[EntityFacts] = []
        for entity_id in resolve(conn, tenant, name_or_id, project, projects):
            entity = _entities(conn, tenant, [entity_id])[0]
            rows = [row_dict(r) for r in conn.execute(
                f"SELECT {FACT_COLUMNS} FROM facts WHERE id IN"
                " (SELECT fact_id FROM entity_mentions WHERE entity_id = ?)"
                " ORDER BY recorded_seq DESC LIMIT ?", (entity_id, limit))]
            verifier.check(conn, rows)
            found.append(EntityFacts(entity=entity, facts=[fact_from_row(r) for r in rows]))
        return found


def neighbors(
    conn: sqlite3.Connection, tenant: str, name_or_id: str | int, depth: int,
    relation: str | None, project: str | None, max_nodes: int,
    projects: Sequence[str] | None = None,
) -> Graph:
    """Entities within ``depth`` hops (optionally along one relation type) and the
    edges between them; the start entities come first with depth 0."""
    with snapshot(conn):
        starts = resolve(conn, tenant, name_or_id, project, projects)
        return _around(conn, tenant, starts, depth, relation, max_nodes)


def subgraph_of_facts(
    conn: sqlite3.Connection, tenant: str, fact_ids: Sequence[str], depth: int,
    max_nodes: int,
) -> Graph:
    """The entities the facts mention and what lies within ``depth`` hops of them."""
    with snapshot(conn):
        marks = ", ".join("?" for _ in fact_ids)
        starts = [row[0] for row in conn.execute(
            f"SELECT DISTINCT m.entity_id FROM entity_mentions m JOIN entities e"
            f" ON e.id = m.entity_id WHERE m.fact_id IN ({marks}) AND e.tenant = ?"
            " ORDER BY 1", (*fact_ids, tenant))]
        return _around(conn, tenant, starts, depth, None, max_nodes)


def fact_entities(
    conn: sqlite3.Connection, tenant: str, fact_ids: Sequence[str], depth: int,
    max_nodes: int,
) -> dict[str, list[Entity]]:
    """Per fact: the entities it mentions (depth 0) and their neighbours to ``depth``."""
    with snapshot(conn):
        found: dict[str, list[Entity]] = {}
        for fact_id in fact_ids:
            starts = [row[0] for row in conn.execute(
                "SELECT m.entity_id FROM entity_mentions m JOIN entities e ON e.id ="
                " m.entity_id WHERE m.fact_id = ? AND e.tenant = ? ORDER BY 1",
                (fact_id, tenant))]
            found[fact_id] = _around(conn, tenant, starts, depth, None, max_nodes).nodes
        return found


def explicit_entities(
    conn: sqlite3.Connection, tenant: str, fact_id: str
) -> tuple[tuple[str, str], ...]:
    rows = conn.execute(
        "SELECT e.name, e.type FROM entity_mentions m JOIN entities e ON e.id = m.entity_id"
        " WHERE m.fact_id = ? AND m.explicit = 1 AND e.tenant = ? ORDER BY e.id",
        (fact_id, tenant)).fetchall()
    return tuple((str(name), str(kind)) for name, kind in rows)


def path(
    conn: sqlite3.Connection, tenant: str, source: str | int, target: str | int,
    max_depth: int, project: str | None, projects: Sequence[str] | None = None,
) -> Graph | None:
    """A shortest path between two entities (any direction along edges), or ``None``.

    Meet in the middle: one walk from each end, to half the depth each, so no walk goes
    past depth ``ceil(max_depth / 2)`` (a walk's cost grows with the power of its depth).
    Any path of length <= max_depth has a node within reach of both walks; the best such
    node is on a shortest path, which is then traced back towards each end.
    """
    with snapshot(conn):
        starts = resolve(conn, tenant, source, project, projects)
        goals = resolve(conn, tenant, target, project, projects)
        near_source = _walk(conn, starts, (max_depth + 1) // 2, None)
        near_target = _walk(conn, goals, max_depth // 2, None)
        meetings = sorted((hops + near_target[node], node)
                          for node, hops in near_source.items() if node in near_target)
        if not meetings or meetings[0][0] > max_depth:
            return None
        middle = meetings[0][1]
        to_source, edges_back = _trace(conn, middle, near_source)
        to_target, edges_on = _trace(conn, middle, near_target)
        chain = [*reversed(to_source), *to_target[1:]]
        edges = [*reversed(edges_back), *edges_on]
        depths = {node: hops for hops, node in enumerate(chain)}
        nodes = _entities(conn, tenant, chain, depths)
        return Graph(nodes=nodes, edges=_edges_with_facts(conn, edges))


def _trace(
    conn: sqlite3.Connection, node: int, depths: dict[int, int]
) -> tuple[list[int], list[tuple[Any, ...]]]:
    """From ``node`` back to a walk's start: the nodes (``node`` first) and the edges."""
    chain, edges = [node], []
    while depths[node] > 0:
        edge = _step_back(conn, node, depths)
        node = edge[0] if edge[1] == node else edge[1]
        chain.append(node)
        edges.append(edge)
    return chain, edges


def _step_back(
    conn: sqlite3.Connection, node: int, depths: dict[int, int]
) -> tuple[Any, ...]:
    """An edge from ``node`` to a node one hop nearer the walk's start (smallest id wins)."""
    rows = conn.execute(
        "SELECT source, target, type, weight FROM relations WHERE target = ? AND weight > 0"
        " UNION ALL SELECT source, target, type, weight FROM relations WHERE source = ?"
        " AND weight > 0",
        (node, node)).fetchall()
    nearer = depths[node] - 1
    candidates = sorted((row[0] if row[1] == node else row[1], tuple(row)) for row in rows
                        if depths.get(row[0] if row[1] == node else row[1]) == nearer)
    return candidates[0][1]


def _walk(
    conn: sqlite3.Connection, starts: Iterable[int], depth: int, relation: str | None,
    rows: int = MAX_WALK_ROWS,
) -> dict[int, int]:
    """Node -> fewest hops from ``starts``. The CTE's queue is first-in first-out, so rows
    come level by level: a walk cut at ``rows`` keeps the nearest nodes, depths exact."""
    found = conn.execute(_WALK, {"starts": json.dumps(list(starts)), "depth": depth,
                                 "relation": relation, "rows": rows}).fetchall()
    return {int(node): int(hops) for node, hops in found}


def _around(
    conn: sqlite3.Connection, tenant: str, starts: Sequence[int], depth: int,
    relation: str | None, max_nodes: int,
) -> Graph:
    # a bounded answer needs only the walk's first rows (see _walk)
    budget = max(WALK_ROWS_PER_NODE * max_nodes, 1000)
    depths = _walk(conn, starts, depth, relation, budget) if starts else {}
    kept = sorted(depths, key=lambda node: (depths[node], node))[:max_nodes]
    nodes = _entities(conn, tenant, kept, depths)
    ids = [node.id for node in nodes]
    marks = ", ".join("?" for _ in ids)
    rows = conn.execute(
        f"SELECT source, target, type, weight FROM relations WHERE source IN ({marks})"
        f" AND target IN ({marks}) AND weight > 0 AND (? IS NULL OR type = ?)"
        " ORDER BY weight DESC, source, target, type LIMIT ?",
        (*ids, *ids, relation, relation, EDGES_PER_NODE * max_nodes + 1)).fetchall(
    ) if ids else []
    cut = len(rows) > EDGES_PER_NODE * max_nodes
    return Graph(nodes=nodes, edges=_edges_with_facts(conn, rows[:EDGES_PER_NODE * max_nodes]),
                 truncated=cut or len(depths) > max_nodes or len(depths) >= budget)


def _entities(
    conn: sqlite3.Connection, tenant: str, ids: Sequence[int],
    depths: dict[int, int] | None = None,
) -> list[Entity]:
    """Entities by id, in the order given, only this tenant's."""
    if not ids:
        return []
    rows = conn.execute(
        f"SELECT {ENTITY_COLUMNS} FROM entities WHERE +tenant = ? AND mentions > 0 AND id IN"
        f" ({', '.join('?' for _ in ids)})", (tenant, *ids)).fetchall()
    by_id = {row[0]: row for row in rows}
    return [_entity(by_id[i], None if depths is None else depths.get(i))
            for i in ids if i in by_id]


#: fact ids listed per edge (the newest first); ``weight`` still counts them all
MAX_EDGE_FACTS = 20


def _edges_with_facts(
    conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]
) -> list[Edge]:
    """Edges with the ids of the facts asserting them, fetched in one query."""
    if not rows:
        return []
    keys = json.dumps([[source, target, kind] for source, target, kind, _ in rows])
    asserted = {
        (source, target, kind): json.loads(fact_ids)
        for source, target, kind, fact_ids in conn.execute(
            "SELECT k.value ->> 0, k.value ->> 1, k.value ->> 2, (SELECT json_group_array("
            "fact_id) FROM (SELECT fact_id FROM relation_facts WHERE source = k.value ->> 0"
            " AND target = k.value ->> 1 AND type = k.value ->> 2 ORDER BY fact_id DESC"
            " LIMIT :most)) FROM json_each(:keys) AS k", {"keys": keys, "most": MAX_EDGE_FACTS})
    }
    return [Edge(source=int(source), target=int(target), type=str(kind), weight=int(weight),
                 fact_ids=asserted.get((source, target, kind), []))
            for source, target, kind, weight in rows]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
