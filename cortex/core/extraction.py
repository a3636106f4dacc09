"""Entity and relation extraction from a fact's text. Pure: no I/O, deterministic.

Entities, in order of precedence when two candidates overlap:

- ``url``: ``http(s)://…`` up to whitespace, trailing punctuation dropped;
- ``file``: a path-like name ending in a known extension (``cortex/db/schema.py``,
  ``README.md``; also ``Dockerfile``, ``Makefile`` and friends without an extension);
- ``tool``: a word from a curated, configurable list (SQLite, Litestar, Docker, …), also
  as a module (``asyncio.gather``), in a capitalized compound (``Redis-backed``) or, when
  configured, of several words (``Argo CD``);
- ``type``: CamelCase with at least two humps (``WriterActor``, ``HTTPClient``,
  ``sqlite3.OperationalError``), except plural abbreviations (``CTEs``) and the few
  CamelCase words that are not code (``DevOps``: ``NOT_TYPES``);
- ``project``: kebab-case (``cortex-ledger``, ``api-gateway``) unless it is an ordinary
  hyphenated word, singular or plural (``read-only``, ``follow-ups``, ``server-side``,
  ``exactly-once``: ``NOT_PROJECTS`` and the telling parts in ``NOT_PROJECT_PARTS``);
- entities the caller passes explicitly (any type, default ``concept``).

Identity is the case-folded, trimmed name (``key``); the name is displayed as first seen.

Relations join two entities of one sentence, typed per pair by the signal phrase between
them (``cortex.core.relations``).
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cortex.core.relations import RELATION_TYPES, Relation, relation_between, relations

__all__ = [
    "DEFAULT_TOOLS", "EMPTY_EXTRACTION", "ENTITY_TYPES", "EXACT_CASE_TOOLS", "FILE_EXTENSIONS",
    "MAX_ENTITIES_PER_FACT", "NOT_PROJECTS", "NOT_PROJECT_PARTS", "NOT_TYPES",
    "RELATION_TYPES", "Entity", "Extraction", "Relation", "ToolIndex", "configured_tools",
    "entity_key", "extract", "is_english_compound", "relation_between", "tool_index",
]

ENTITY_TYPES = ("file", "type", "tool", "url", "project", "concept")

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

_SENTENCE_END = re.compile(r"[.!?;]\s+|\n+")

_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
#: a run of path characters; most runs are plain words and fail the cheap "." test
_PATH_TOKEN = re.compile(r"(?<![\w./@-])[\w/@-]*\.[\w./@-]*")
_BARE_FILE = re.compile(r"(?<![\w/.@-])(?:[\w.-]+/)*(?:dockerfile|makefile|procfile|justfile"
                        r"|license|readme|changelog)(?![\w/.-])", re.IGNORECASE)
_BARE_FILE_NAMES = ("dockerfile", "makefile", "procfile", "justfile", "license", "readme",
                    "changelog")
_WORD = re.compile(r"(?<![\w/-])[A-Za-z][\w.+-]*[\w+]|(?<![\w/-])[A-Za-z]")
_CAMEL = re.compile(r"(?<![\w])[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*(?![\w])")
_HUMP = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z0-9]+|[A-Z]+")
_KEBAB = re.compile(r"(?<![\w./-])[a-z][a-z0-9]*(?:-[a-z0-9]+)+(?![\w/-])")
#: hyphenated English, not project names: whole words and telling parts
NOT_PROJECTS = frozenset({
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
        "t-shirt", "non-blocking", "non-zero", "user-facing", "long-running", "trade-off",
        "look-up", "hand-off", "sign-off", "one-off", "drop-in", "add-on", "plug-in",
        "write-back", "fine-grained", "large-scale", "dry-run", "hot-fix", "must-have",
        "nice-to-have", "human-readable", "machine-readable", "thread-safe", "type-safe",
})
#: a part that makes a hyphenated word English: particles and prepositions ("sign-in"),
#: prefixes ("re-run", "cross-tenant"), quantities ("one-shot", "exactly-once") and
#: suffixes of adjectives ("token-based", "server-side", "local-first")
NOT_PROJECT_PARTS = frozenset({
        "to", "the", "a", "an", "of", "by", "in", "on", "up", "off", "out", "at", "for", "non",
        "re", "pre", "post", "co", "anti", "self", "multi", "per", "sub", "semi", "well", "ill",
        "half", "all", "and", "or", "as", "with", "vs", "not", "through", "over", "under",
        "cross", "mid", "one", "two", "three", "single", "double", "zero", "once", "twice",
        "best", "worst", "first", "last", "long", "short", "high", "low", "based", "only",
        "like", "safe", "aware", "free", "wide", "side", "specific", "friendly", "driven",
        "facing", "bound", "level", "time", "term", "style",
})
#: CamelCase words that are not code
NOT_TYPES = frozenset({"devops", "devsecops", "gitops", "mlops", "finops", "phd", "wifi",
                       "youtube", "linkedin", "iphone", "ipad", "powerpoint", "paypal"})
#: dot-files without a stem; ``.py`` alone is an extension, not a file
_DOTFILES = frozenset({"env", "envrc", "gitignore", "gitattributes", "dockerignore",
                       "editorconfig", "npmrc", "pypirc", "netrc", "pgpass", "bashrc", "zshrc"})
MAX_ENTITIES_PER_FACT = 64


@dataclass(frozen=True, slots=True)
class Entity:
    """An entity as one fact mentions it."""

    key: str
    name: str
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


class ToolIndex(dict[str, str]):
    """Case-folded tool name -> the name as the list spells it; names of several words
    are also matched by one pattern, made once per index."""

    @functools.cached_property
    def phrases(self) -> re.Pattern[str] | None:
        names = sorted((key for key in self if " " in key), key=len, reverse=True)
        if not names:
            return None
        words = "|".join(r"\s+".join(map(re.escape, name.split())) for name in names)
        return re.compile(rf"(?<![\w-])(?:{words})(?![\w-])", re.IGNORECASE)


def tool_index(tools: Iterable[str]) -> ToolIndex:
    """The index of a tool list."""
    return ToolIndex((entity_key(tool), tool) for tool in tools)


_DEFAULT_INDEX = tool_index(DEFAULT_TOOLS)


def configured_tools(extra: str) -> ToolIndex:
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
    found_relations = relations(
        text, [(span.start, span.end, span.entity.key) for span in spans],
        _sentence_ends(text, spans))
    found: dict[str, Entity] = {}
    for span in spans:
        found.setdefault(span.entity.key, span.entity)
    for name, kind in explicit:
        key = entity_key(name)
        if key:
            found.setdefault(key, Entity(key, " ".join(name.split()), kind))
    entities = tuple(found.values())[:MAX_ENTITIES_PER_FACT]
    kept = {entity.key for entity in entities}
    return Extraction(entities, tuple(
        r for r in found_relations if r.source in kept and r.target in kept))


def _sentence_ends(text: str, spans: list[_Span]) -> list[int]:
    """Where sentences end; a full stop inside an entity (a file's dot) does not count."""
    starts = [span.start for span in spans]
    ends = []
    for match in _SENTENCE_END.finditer(text):
        index = bisect.bisect_right(starts, match.start())
        if not index or spans[index - 1].end <= match.start():
            ends.append(match.start())
    return ends


def _spans(text: str, tools: dict[str, str]) -> list[_Span]:
    """Every entity occurrence, overlaps resolved by precedence then by length."""
    candidates: list[tuple[int, _Span]] = []
    for rank, finder in enumerate((_urls, _files, _tools_in, _types, _projects)):
        candidates.extend((rank, span) for span in finder(text, tools))
    candidates.sort(key=lambda item: (item[0], -(item[1].end - item[1].start), item[1].start))
    taken: list[_Span] = []  # sorted by start, so by end too: they never overlap
    starts: list[int] = []
    for _, span in candidates:
        index = bisect.bisect_right(starts, span.start)
        if index and taken[index - 1].end > span.start:
            continue
        if index < len(taken) and taken[index].start < span.end:
            continue
        taken.insert(index, span)
        starts.insert(index, span.start)
    return taken


def _span(match: re.Match[str], name: str, kind: str, length: int | None = None) -> _Span:
    """The span of ``name`` where ``match`` starts (``length``: when written otherwise)."""
    begin = match.start()
    end = begin + (len(name) if length is None else length)
    return _Span(begin, end, Entity(entity_key(name), name, kind))


def _urls(text: str, _tools: dict[str, str]) -> Iterable[_Span]:
    for match in _URL.finditer(text):
        yield _span(match, match.group().rstrip(".,;:!?)]}'\""), "url")


def _files(text: str, tools: dict[str, str]) -> Iterable[_Span]:
    if "." in text:
        for match in _PATH_TOKEN.finditer(text):
            name = match.group().rstrip(".")
            if _is_file_name(name) and entity_key(name) not in tools:  # not "Node.js"
                yield _span(match, name, "file")
    lowered = text.lower()
    if not any(name in lowered for name in _BARE_FILE_NAMES):
        return
    for match in _BARE_FILE.finditer(text):
        name = match.group()
        if "/" in name or name[0].isupper():
            yield _span(match, name, "file")


def _is_file_name(name: str) -> bool:
    last = name.rsplit("/", 1)[-1]
    if "." not in last or "@" in name:
        return False
    extension = last.rsplit(".", 1)[-1].lower()
    if last[0] == ".":
        return last[1:].lower() in _DOTFILES or (
            "." in last[1:] and extension in FILE_EXTENSIONS)
    return (last[0].isalpha() or last[0] == "_") and extension in FILE_EXTENSIONS


def _tools_in(text: str, tools: dict[str, str]) -> Iterable[_Span]:
    for match in _WORD.finditer(text):
        word = match.group()
        # one word has no whitespace to collapse: its key is its casefold
        candidates = _variants(word) if "." in word or "-" in word else (word,)
        for candidate in candidates:
            listed = tools.get(candidate.casefold())
            if listed is not None and (listed not in EXACT_CASE_TOOLS or candidate == listed):
                yield _span(match, candidate, "tool")
                break
    phrases = tools.phrases if isinstance(tools, ToolIndex) else tool_index(tools).phrases
    if phrases is not None:
        for match in phrases.finditer(text):
            yield _span(match, " ".join(match.group().split()), "tool", length=len(match.group()))


def _variants(word: str) -> Iterable[str]:
    """The word, without a final full stop, as a module (``asyncio`` of ``asyncio.gather``)
    and as the head of a capitalized compound (``Redis`` of ``Redis-backed``; a lowercase
    one like ``pytest-asyncio`` is a project of its own)."""
    yield word
    yield word.rstrip(".")
    if "." in word:
        yield word.split(".", 1)[0]
    if "-" in word and not word.islower():
        yield word.split("-", 1)[0]


def _types(text: str, _tools: dict[str, str]) -> Iterable[_Span]:
    for match in _CAMEL.finditer(text):
        word = match.group()
        if len(_HUMP.findall(word)) < 2 or word.casefold() in NOT_TYPES:
            continue
        if word[-1] != "s" or not word[:-1].isupper():  # "CTEs" is plural, not CamelCase
            yield _span(match, word, "type")


def _projects(text: str, _tools: dict[str, str]) -> Iterable[_Span]:
    for match in _KEBAB.finditer(text):
        word = match.group()
        if is_english_compound(word):
            continue
        parts = word.split("-")
        if all(part.isdigit() for part in parts[1:]) or len(word) < 4:
            continue  # "utf-8", "sha-256": a name and a number
        yield _span(match, word, "project")


def is_english_compound(word: str) -> bool:
    """Whether a lowercase hyphenated word is ordinary English (``follow-ups``,
    ``server-side``) rather than a project name (``api-gateway``)."""
    singular = word.removesuffix("s")
    if word in NOT_PROJECTS or singular in NOT_PROJECTS:
        return True
    parts = word.split("-")
    return any(part in NOT_PROJECT_PARTS for part in (*parts, singular.rsplit("-", 1)[-1]))
