#!/usr/bin/env bash
# Idempotent install of auxdet's environment into .venv (make setup).
#  - keeps an existing, compatible torch (e.g. a user's CUDA build); otherwise installs the pinned one;
#  - mmcv 2.1.0 with compiled ops is built from the sdist once and cached as a wheel, keyed by
#    mmcv + torch + python + CUDA, in $AUXDET_WHEEL_CACHE (default ~/.cache/auxdet/wheels) so later
#    installs, also from fresh clones on the same machine, take seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${AUXDET_VENV:-$ROOT/.venv}
PY=${PYTHON:-python3.11}
TORCH_PIN="torch==2.14.1 torchvision==0.29.1"
MMCV_VERSION=2.1.0
CACHE=${AUXDET_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/auxdet/wheels}
T0=$(date +%s)
phase() { echo "[setup] $(( $(date +%s) - T0 ))s: $*"; }

if [ ! -x "$VENV/bin/python" ]; then
  phase "creating $VENV with $PY"
  "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
PIP=("$VPY" -m pip --disable-pip-version-check)

# 1+2. torch (keep any installed torch >= 2.1 with torchvision, e.g. a user's CUDA build; else the pin),
#      the pinned Python dependencies (everything but mmcv) and mmcv's build tools — one pip resolution.
TORCH_REQ=""
if "$VPY" - <<'PY' 2>/dev/null
import torch, torchvision  # noqa: F401
major, minor = (int(x) for x in torch.__version__.split(".")[:2])
raise SystemExit(0 if (major, minor) >= (2, 1) else 1)
PY
then
  phase "keeping installed torch $("$VPY" -c 'import torch; print(torch.__version__)')"
else
  TORCH_REQ=$TORCH_PIN
fi
phase "installing ${TORCH_REQ:+$TORCH_REQ and }pinned requirements"
# shellcheck disable=SC2086
"${PIP[@]}" install -q $TORCH_REQ -r requirements.txt

# 3. mmcv with ops, from the wheel cache or built from the sdist.
if "$VPY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; then
  phase "mmcv $MMCV_VERSION with ops already installed"
else
  KEY=$("$VPY" -c "import sys, torch; print(f'py{sys.version_info[0]}{sys.version_info[1]}-torch{torch.__version__.replace(\"+\", \"_\")}-' + ('cu' + torch.version.cuda if torch.cuda.is_available() else 'cpu'))")
  DIR="$CACHE/mmcv-$MMCV_VERSION-$KEY"
  if ! ls "$DIR"/mmcv-*.whl >/dev/null 2>&1; then
    phase "no cached mmcv wheel in $DIR: building mmcv $MMCV_VERSION with ops (~20 min on 2 cores)"
    BUILD=$(mktemp -d)
    trap 'rm -rf "$BUILD"' EXIT
    "${PIP[@]}" download -q --no-deps --no-binary :all: "mmcv==$MMCV_VERSION" -d "$BUILD/src"
    export MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)}
    export AUXDET_REAL_CXX=${CXX:-g++} CXX="$ROOT/scripts/cxx20.sh"
    "$VPY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" || export FORCE_CUDA=0
    "${PIP[@]}" wheel --no-build-isolation --no-deps -w "$BUILD/wheel" "$BUILD"/src/mmcv-*.tar.gz
    mkdir -p "$DIR.partial"
    cp "$BUILD"/wheel/mmcv-*.whl "$DIR.partial/"
    rm -rf "$DIR" && mv "$DIR.partial" "$DIR"   # publish atomically: never a half-written cache
  else
    phase "using cached mmcv wheel from $DIR"
  fi
  "${PIP[@]}" install -q --no-deps "$DIR"/mmcv-*.whl
fi

# 4. auxdet itself, editable.
phase "installing auxdet (editable)"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e .
"$VPY" -c "import mmcv.ops, mmdet, auxdet; print('[setup] ok: mmcv', mmcv.__version__, 'mmdet', mmdet.__version__)"

# 5. the project's named Jupyter kernel, inside the venv (`.venv/bin/jupyter lab` and nbconvert find it);
#    rewritten each time, so it always points at this venv's python. Notebooks name it (kernelspec 'auxdet').
phase "installing the Jupyter kernel 'auxdet' (Python 3 (auxdet)) into $VENV"
"$VPY" -m ipykernel install --sys-prefix --name auxdet --display-name "Python 3 (auxdet)" >/dev/null
phase "done"
