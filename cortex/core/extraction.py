"""Entity and relation extraction from a fact's text. Pure: no I/O, deterministic.

Entities, in order of precedence when two candidates overlap:

- ``url``: ``http(s)://…`` up to whitespace, trailing punctuation dropped;
- ``file``: a path-like name ending in a known extension (``cortex/db/schema.py``,
  ``README.md``; also ``Dockerfile``, ``Makefile`` and friends without an extension);
- ``tool``: a word from a curated, configurable list (SQLite, Litestar, Docker, …);
- ``type``: CamelCase with at least two humps (``WriterActor``, ``HTTPClient``);
- ``project``: kebab-case (``cortex-ledger``, ``sqlite-vec``) unless it is an ordinary
  hyphenated word (``read-only``, ``end-to-end``, ``re-run``: see ``_NOT_PROJECTS``);
- entities the caller passes explicitly (any type, default ``concept``).

Identity is the case-folded, trimmed name (``key``); the name is displayed as first seen.

Relations join two entities of one sentence. The type is chosen per pair from the words
between them: the signal phrase nearest to the second entity wins (``uses``,
``depends_on``, ``replaces``, ``extends``, ``contains``, ``deployed_to``,
``integrates``, ``created_by``); a pair joined only by a list separator ("A and B",
"A, B") asserts nothing; any other pair in a sentence is ``related_to``. The source is
the entity written first, so "A depends on B" gives ``A -depends_on-> B``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

ENTITY_TYPES = ("file", "type", "tool", "url", "project", "concept")
RELATION_TYPES = ("uses", "depends_on", "replaces", "extends", "contains", "deployed_to",
                  "integrates", "created_by", "related_to")

DEFAULT_TOOLS: tuple[str, ...] = (
    "SQLite", "sqlite-vec", "PostgreSQL", "Postgres", "MySQL", "MariaDB", "Redis", "MongoDB",
    "Cassandra", "Kafka", "RabbitMQ", "Elasticsearch", "OpenSearch", "DuckDB", "ClickHouse",
    "Litestar", "FastAPI", "Flask", "Django", "Starlette", "uvicorn", "granian", "gunicorn",
    "nginx", "Caddy", "Docker", "Kubernetes", "Helm", "Terraform", "Ansible", "Podman",
    "AWS", "S3", "GCP", "Azure", "Cloudflare", "Vercel", "Heroku", "Fly.io", "Litestream",
    "rqlite", "Git", "GitHub", "GitLab", "Jenkins", "Prometheus", "Grafana", "Sentry",
    "OpenTelemetry", "Python", "Rust", "Go", "TypeScript", "JavaScript", "Node.js", "Java",
    "pytest", "mypy", "ruff", "pip", "Poetry", "anyio", "asyncio",
    "aiosqlite", "msgspec", "pydantic", "structlog", "httpx", "numpy", "pandas",
    "PyTorch", "torch", "ONNX", "onnxruntime", "tokenizers", "MiniLM", "OpenAI", "Anthropic",
    "Claude", "MCP", "Linux", "Ubuntu", "Debian", "macOS", "Windows", "systemd", "cron",
    "Celery", "Airflow", "Spark", "Hadoop", "Snowflake", "BigQuery", "Pinecone", "FAISS",
    "Qdrant", "Weaviate", "Chroma", "LangChain", "LlamaIndex", "React", "Vue", "Svelte",
    "Next.js", "Webpack", "Vite", "Babel", "Bash", "Zsh", "SSH", "OAuth", "JWT", "gRPC",
    "GraphQL", "WebSocket",
)
#: tools whose name is also an ordinary word: matched only when spelled as listed
EXACT_CASE_TOOLS = frozenset({"Go", "Rust", "Spark", "Helm", "React", "Vue", "Chroma",
                              "Poetry", "Caddy", "Celery", "Windows", "Claude", "Babel",
                              "Vite", "Pip"})
FILE_EXTENSIONS = frozenset({
        "py", "pyi", "js", "mjs", "cjs", "ts", "tsx", "jsx", "go", "rs", "java", "kt", "kts",
        "swift", "c", "h", "cc", "cpp", "hpp", "cs", "rb", "php", "scala", "sh", "bash", "zsh",
        "ps1", "sql", "md", "rst", "txt", "json", "jsonl", "yaml", "yml", "toml", "ini", "cfg",
        "conf", "env", "lock", "html", "css", "scss", "xml", "csv", "tsv", "parquet", "db",
        "sqlite", "sqlite3", "proto", "ipynb", "tf", "hcl", "gradle", "mk", "cmake", "log",
        "pem", "key", "crt", "onnx", "safetensors", "whl", "gz", "zip", "tar",
})

#: (pattern, relation, reversed): a reversed phrase names the target first ("A is used by
#: B" is ``B -uses-> A``). Reversed phrases come first so "used by" is not read as "used".
_SIGNALS: tuple[tuple[str, str, bool], ...] = (
    (r"used by|consumed by", "uses", True),
    (r"required by|needed by|depended on by", "depends_on", True),
    (r"replaced (?:by|with)|superseded by|deprecated (?:in favou?r of|for)", "replaces", True),
    (r"extended by|wrapped by|subclassed by", "extends", True),
    (r"contained in|part of|inside|included in|belongs to", "contains", True),
    (r"depends? on|depending on|depended on|requires?|needs", "depends_on", False),
    (r"replac(?:es|ed|ing|e)|supersed(?:es|ed|e)|instead of|in place of", "replaces", False),
    (r"extends?|extended|inherits? from|subclass(?:es)? of|builds? on|built on|wraps?",
     "extends", False),
    (r"contains?|includes?|holds|consists? of", "contains", False),
    (r"deploy(?:s|ed|ing)? (?:to|on|onto)|runs? on|running on|hosted (?:on|in)"
     r"|ships? to|shipped to", "deployed_to", False),
    (r"integrat(?:es|ed|ing|e)(?: with)?|connects? to|talks? to|calls|plugs? into"
     r"|sends? to|writes? to|reads? from", "integrates", False),
    (r"created by|written by|authored by|made by|maintained by|owned by|built by",
     "created_by", False),
    (r"uses?|using|relies on|relying on|powered by|installs?|installed|adopts?|adopted"
     r"|switch(?:es|ed)? to|mov(?:es|ed) to|migrat(?:es|ed|ing|e) to|via|through",
     "uses", False),
)
_SIGNAL_RE = re.compile(
    "|".join(f"(?P<s{i}>\\b(?:{pattern})\\b)" for i, (pattern, _, _) in enumerate(_SIGNALS)),
    re.IGNORECASE,
)
#: "from A to B": B replaces A
_FROM_BEFORE = re.compile(r"\bfrom\s*$", re.IGNORECASE)
_TO_BETWEEN = re.compile(r"^\s*(?:to|->|→|with)\s*$", re.IGNORECASE)
_LIST_SEPARATOR = re.compile(r"^[\s,;/&+]*(?:and|or|&|,|/|\+)?[\s,;/&+]*$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?;]\s+|\n+")

_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
#: a run of path characters; most runs are plain words and fail the cheap "." test
_PATH_TOKEN = re.compile(r"(?<![\w./@-])[\w/@-]*\.[\w./@-]*")
_BARE_FILE = re.compile(r"(?<![\w/.@-])(?:[\w.-]+/)*(?:dockerfile|makefile|procfile|justfile"
                        r"|license|readme|changelog)(?![\w/.-])", re.IGNORECASE)
_BARE_FILE_NAMES = ("dockerfile", "makefile", "procfile", "justfile", "license", "readme",
                    "changelog")
_WORD = re.compile(r"(?<![\w/-])[A-Za-z][\w.+-]*[\w+]|(?<![\w/-])[A-Za-z]")
_CAMEL = re.compile(r"(?<![\w.])[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*(?![\w])")
_HUMP = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z0-9]+|[A-Z]+")
_KEBAB = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:-[a-z0-9]+)+(?![\w/-])")
#: hyphenated English, not project names: whole words and telling parts
_NOT_PROJECTS = frozenset({
        "read-only", "read-write", "write-ahead", "built-in", "follow-up", "e-mail",
        "real-time", "long-term", "short-term", "well-known", "open-source", "third-party",
        "so-called", "one-time", "multi-tenant", "single-writer", "single-threaded",
        "multi-threaded", "high-level", "low-level", "top-level", "step-by-step",
        "state-of-the-art", "day-to-day", "up-to-date", "out-of-date", "end-to-end",
        "peer-to-peer", "back-end", "front-end", "full-text", "on-call", "on-disk", "in-memory",
        "in-process", "off-by-one", "re-run", "re-ran", "re-index", "re-indexed", "co-author",
        "case-insensitive", "case-sensitive", "rate-limited", "rate-limit", "time-out",
        "opt-in", "opt-out", "sign-in", "log-in", "set-up", "check-in", "roll-back",
        "fail-closed", "fail-open", "hard-coded", "hot-path", "cold-start", "kill-9", "x-ray",
        "t-shirt", "non-blocking", "non-zero", "user-facing", "long-running",
})
_NOT_PROJECT_PARTS = frozenset({
        "to", "the", "a", "an", "of", "by", "in", "on", "up", "off", "out", "at", "for", "non",
        "re", "pre", "post", "co", "anti", "self", "multi", "per", "sub", "semi", "well", "ill",
        "half", "all",
})
MAX_ENTITIES_PER_FACT = 64


@dataclass(frozen=True, slots=True)
class Entity:
    """An entity as one fact mentions it."""

    key: str
    name: str
    type: str


@dataclass(frozen=True, slots=True)
class Relation:
    source: str  # entity key
    target: str  # entity key
    type: str


@dataclass(frozen=True, slots=True)
class Extraction:
    entities: tuple[Entity, ...] = ()
    relations: tuple[Relation, ...] = ()


EMPTY_EXTRACTION = Extraction()


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    entity: Entity


def entity_key(name: str) -> str:
    """Identity of an entity name: trimmed, inner whitespace collapsed, case-folded."""
    return " ".join(name.split()).casefold()


def tool_index(tools: Iterable[str]) -> dict[str, str]:
    """Case-folded tool name -> the name as the list spells it."""
    return {entity_key(tool): tool for tool in tools}


_DEFAULT_INDEX = tool_index(DEFAULT_TOOLS)


def configured_tools(extra: str) -> dict[str, str]:
    """The built-in tools plus a comma-separated list of more (the ``graph_tools`` setting)."""
    names = [name.strip() for name in extra.split(",")]
    return tool_index([*DEFAULT_TOOLS, *(name for name in names if name)])


def extract(
    text: str,
    explicit: Sequence[tuple[str, str]] = (),
    tools: dict[str, str] | None = None,
) -> Extraction:
    """Entities and relations of one fact. ``explicit`` is ``(name, type)`` pairs given by
    the caller; ``tools`` a ``tool_index`` (the default list when ``None``)."""
    spans = _spans(text, _DEFAULT_INDEX if tools is None else tools)
    relations = _relations(text, spans)
    found: dict[str, Entity] = {}
    for span in spans:
        found.setdefault(span.entity.key, span.entity)
    for name, kind in explicit:
        key = entity_key(name)
        if key:
            found.setdefault(key, Entity(key, " ".join(name.split()), kind))
    entities = tuple(found.values())[:MAX_ENTITIES_PER_FACT]
    kept = {entity.key for entity in entities}
    return Extraction(
        entities, tuple(r for r in relations if r.source in kept and r.target in kept))


def _spans(text: str, tools: dict[str, str]) -> list[_Span]:
    """Every entity occurrence, overlaps resolved by precedence then by length."""
    candidates: list[tuple[int, _Span]] = []
    for rank, finder in enumerate((_urls, _files, _tools_in, _types, _projects)):
        candidates.extend((rank, span) for span in finder(text, tools))
    candidates.sort(key=lambda item: (item[0], -(item[1].end - item[1].start), item[1].start))
    taken: list[_Span] = []
    for _, span in candidates:
        if all(span.end <= other.start or span.start >= other.end for other in taken):
            taken.append(span)
    return sorted(taken, key=lambda span: span.start)


def _span(match: re.Match[str], name: str, kind: str, start: int | None = None) -> _Span:
    begin = match.start() if start is None else start
    return _Span(begin, begin + len(name), Entity(entity_key(name), name, kind))


def _urls(text: str, _tools: dict[str, str]) -> Iterable[_Span]:
    for match in _URL.finditer(text):
        yield _span(match, match.group().rstrip(".,;:!?)]}'\""), "url")


def _files(text: str, _tools: dict[str, str]) -> Iterable[_Span]:
    if "." in text:
        for match in _PATH_TOKEN.finditer(text):
            name = match.group().rstrip(".")
            last = name.rsplit("/", 1)[-1]
            if "." not in last or "@" in name or (not last[0].isalpha() and last[0] != "_"):
                continue
            if last.rsplit(".", 1)[-1].lower() in FILE_EXTENSIONS:
                yield _span(match, name, "file")
    lowered = text.lower()
    if not any(name in lowered for name in _BARE_FILE_NAMES):
        return
    for match in _BARE_FILE.finditer(text):
        name = match.group()
        if "/" in name or name[0].isupper():
            yield _span(match, name, "file")


def _tools_in(text: str, tools: dict[str, str]) -> Iterable[_Span]:
    for match in _WORD.finditer(text):
        word = match.group()
        for candidate in (word, word.rstrip(".")):
            listed = tools.get(entity_key(candidate))
            if listed is not None and (listed not in EXACT_CASE_TOOLS or candidate == listed):
                yield _span(match, candidate, "tool")
                break


def _types(text: str, _tools: dict[str, str]) -> Iterable[_Span]:
    for match in _CAMEL.finditer(text):
        word = match.group()
        if len(_HUMP.findall(word)) >= 2:
            yield _span(match, word, "type")


def _projects(text: str, _tools: dict[str, str]) -> Iterable[_Span]:
    for match in _KEBAB.finditer(text):
        word = match.group()
        parts = word.split("-")
        if word in _NOT_PROJECTS or any(part in _NOT_PROJECT_PARTS for part in parts):
            continue
        if all(part.isdigit() for part in parts[1:]) or len(word) < 4:
            continue  # "utf-8", "sha-256": a name and a number
        yield _span(match, word, "project")


def _relations(text: str, spans: list[_Span]) -> list[Relation]:
    """Relations between the entities of each sentence.

    Neighbours are related by the phrase between them. Farther pairs only through a
    list: in "A and B use C and D" every gap but one is a list separator, so A, B each
    use C, D; a pair with two asserting gaps between them ("A uses B, which runs on C")
    gets nothing, because the second phrase is about B, not A.
    """
    relations: dict[tuple[str, str, str], Relation] = {}
    for sentence in _sentences(text, spans):
        gaps = [_gap(text, a, b) for a, b in itertools.pairwise(sentence)]
        for i, j in itertools.combinations(range(len(sentence)), 2):
            asserting = [gap for gap in gaps[i:j] if gap is not None]
            if len(asserting) != 1:
                continue
            kind, reverse = asserting[0]
            source, target = sentence[i].entity.key, sentence[j].entity.key
            if reverse:
                source, target = target, source
            if source != target:
                relations.setdefault((source, target, kind), Relation(source, target, kind))
    return list(relations.values())


def _gap(text: str, first: _Span, second: _Span) -> tuple[str, bool] | None:
    """What the text between two neighbouring entities asserts (``None``: a list)."""
    phrase = text[first.end:second.start]
    if _TO_BETWEEN.match(phrase) and _FROM_BEFORE.search(text[:first.start]):
        return "replaces", True
    return relation_between(phrase)


def relation_between(phrase: str) -> tuple[str, bool] | None:
    """``(relation, reversed)`` a phrase between two entities asserts; ``None`` when the
    phrase only separates list items. The signal nearest the second entity wins."""
    signals = list(_SIGNAL_RE.finditer(phrase))
    if signals:
        index = int(next(key for key, value in signals[-1].groupdict().items() if value)[1:])
        _, kind, reverse = _SIGNALS[index]
        return kind, reverse
    if _LIST_SEPARATOR.match(phrase):
        return None
    return "related_to", False


def _sentences(text: str, spans: list[_Span]) -> list[list[_Span]]:
    """Group spans by sentence; a boundary inside an entity (a file's dot) does not count."""
    bounds = [m.start() for m in _SENTENCE_END.finditer(text)
              if not any(s.start <= m.start() < s.end for s in spans)]
    groups: list[list[_Span]] = [[]]
    index = 0
    for span in spans:
        while index < len(bounds) and bounds[index] < span.start:
            index += 1
            groups.append([])
        groups[-1].append(span)
    return [group for group in groups if len(group) > 1]
