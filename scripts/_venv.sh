# Sourced by scripts/test, scripts/demo and .ci/run: make sure .venv exists with
# pydock installed (editable) and the extras named in PYDOCK_EXTRAS.
# Works on a fresh Debian 12 machine as root: installs python3-venv if needed.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_venv="${PYDOCK_VENV:-$_root/.venv}"
_extras="${PYDOCK_EXTRAS:-test}"
_python="${PYTHON:-python3}"
if ! command -v "$_python" >/dev/null 2>&1 || ! "$_python" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "pydock needs Python >= 3.10 as \$PYTHON or python3" >&2
    exit 1
fi
if [ ! -x "$_venv/bin/python" ]; then
    if ! "$_python" -m venv "$_venv" >/dev/null 2>&1; then
        rm -rf "$_venv"
        echo "installing python3-venv ..." >&2
        apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip >/dev/null
        "$_python" -m venv "$_venv"
    fi
    "$_venv/bin/python" -m pip install -q --upgrade pip >/dev/null
fi
_stamp="$_venv/.pydock-installed"
_want="$(cat "$_root/pyproject.toml" | sha256sum | cut -c1-16) $_extras"
if [ "$(cat "$_stamp" 2>/dev/null)" != "$_want" ]; then
    "$_venv/bin/python" -m pip install -q -e "$_root[$_extras]"
    echo "$_want" > "$_stamp"
fi
export PATH="$_venv/bin:$PATH"
