# Helpers shared by the scripts in this folder; source it, don't run it.
# Every script cds to the repository root first, so paths here are relative to it.

VENV=.venv
PY="$VENV/bin/python"
MIN_PYTHON="3.11"

say() { printf '==> %s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# ensure_venv [EXTRA]: create .venv if missing and install the project editable (`-e .` or
# `-e '.[EXTRA]'`). A stamp file in .venv remembers which pyproject.toml was installed, so a
# repeat run skips pip until pyproject.toml changes.
ensure_venv() {
    local extra="${1:-}"
    if [ ! -x "$PY" ]; then
        local python="${PYTHON:-python3}"
        command -v "$python" >/dev/null 2>&1 || die "$python not found; install Python $MIN_PYTHON or newer."
        "$python" -c "import sys; sys.exit(sys.version_info < (${MIN_PYTHON/./, }))" \
            || die "$("$python" --version 2>&1) is too old; Python $MIN_PYTHON or newer is needed."
        say "Creating $VENV with $("$python" --version 2>&1)"
        "$python" -m venv "$VENV"
    fi
    local digest
    digest="$(sha256sum pyproject.toml | cut -d' ' -f1)"
    local stamp="$VENV/.installed-${extra:-base}"
    if [ "$(cat "$stamp" 2>/dev/null)" = "$digest" ]; then
        return 0
    fi
    # The test extra includes everything the base install has.
    if [ -z "$extra" ] && [ "$(cat "$VENV/.installed-test" 2>/dev/null)" = "$digest" ]; then
        return 0
    fi
    local spec="."
    [ -n "$extra" ] && spec=".[$extra]"
    say "Installing -e '$spec' into $VENV (pyproject.toml changed or first run)"
    "$PY" -m pip install --quiet --disable-pip-version-check -e "$spec"
    printf '%s\n' "$digest" >"$stamp"
}

# need_debian_packages PKG...: install the Debian packages that are missing (`apt-get update`
# first, once). Without root or apt-get, stop and name them: a test that needs them must fail,
# never skip.
APT_UPDATED=false
need_debian_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        die "missing Debian packages: ${missing[*]} (install them with apt-get as root)"
    fi
    say "Installing Debian packages: ${missing[*]}"
    if [ "$APT_UPDATED" = false ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        APT_UPDATED=true
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
}
