#!/usr/bin/env bash
# Creates (or reuses) the virtual environment that the OpenFHE peer scripts run in.
#
# The `openfhe` wheel on PyPI is built for CPython 3.10 only, so the venv must be made with a
# 3.10 interpreter. Set PYTHON310 to point at one explicitly; otherwise the pyenv install under
# ~/.pyenv/versions/3.10.* is used. Running this script twice is harmless: an existing venv
# with the pinned packages is left as it is.
#
# Usage: bench/peers/setup.sh        (then: bench/peers/.venv/bin/python bench/peers/...)
set -euo pipefail

OPENFHE_VERSION="1.6.1.0.22.4"   # the newest release with a CPython 3.10 wheel
NUMPY_SPEC="numpy>=1.24,<2.3"

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"

find_python310() {
    if [[ -n "${PYTHON310:-}" ]]; then
        echo "$PYTHON310"
        return
    fi
    local candidate
    for candidate in "$HOME"/.pyenv/versions/3.10.*/bin/python3.10; do
        if [[ -x "$candidate" ]]; then
            echo "$candidate"
            return
        fi
    done
    if command -v python3.10 >/dev/null 2>&1; then
        command -v python3.10
        return
    fi
    echo ""
}

python310="$(find_python310)"
if [[ -z "$python310" || ! -x "$python310" ]]; then
    echo "setup.sh: no CPython 3.10 found (looked at \$PYTHON310, ~/.pyenv/versions/3.10.*/bin/python3.10" >&2
    echo "          and python3.10 on PATH). The openfhe wheel exists for CPython 3.10 only;" >&2
    echo "          install it (e.g. 'pyenv install 3.10') or set PYTHON310=/path/to/python3.10." >&2
    exit 1
fi
if ! "$python310" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)'; then
    echo "setup.sh: $python310 is not CPython 3.10" >&2
    exit 1
fi

if [[ -x "$venv/bin/python" ]] && ! "$venv/bin/python" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)'; then
    echo "setup.sh: $venv exists but is not a Python 3.10 venv; remove it and rerun" >&2
    exit 1
fi
if [[ ! -x "$venv/bin/python" ]]; then
    echo "setup.sh: creating $venv with $python310"
    "$python310" -m venv "$venv"
fi

installed="$( ("$venv/bin/python" -m pip show openfhe 2>/dev/null || true) | awk '/^Version:/ {print $2}')"
if [[ "$installed" == "$OPENFHE_VERSION" ]] && "$venv/bin/python" -c 'import numpy' 2>/dev/null; then
    echo "setup.sh: openfhe $OPENFHE_VERSION and numpy already installed in $venv"
else
    "$venv/bin/python" -m pip install --quiet --upgrade pip
    "$venv/bin/python" -m pip install --quiet "openfhe==$OPENFHE_VERSION" "$NUMPY_SPEC"
fi

# A last check that the extension module really loads with this interpreter.
"$venv/bin/python" -c 'import openfhe, numpy; print("setup.sh: ready:", "openfhe", openfhe.__version__ if hasattr(openfhe, "__version__") else "'"$OPENFHE_VERSION"'", "numpy", numpy.__version__)'
