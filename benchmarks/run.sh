#!/usr/bin/env bash
# One command for all benchmarks: bash benchmarks/run.sh [run.py options, e.g. --quick]
# Creates two venvs next to this script (gitignored) on first use:
#   .venv-bench    ol-bridge (editable, with the duckdb extra) + pyinstrument, matplotlib
#   .venv-anchors  acryl-datahub-dagster-plugin + dagster-openlineage 0.2.1, same dagster
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
uv="${UV:-$(command -v uv || true)}"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
# The dagster both venvs get: the newest that dagster-openlineage 0.2.1 and the plugin
# accept together (checked when this file was written).
dagster_pin="${DAGSTER_PIN:-dagster==1.13.27}"

# uv when there is one (fast); else the interpreter's own venv and pip, so a machine with
# only Python runs the benchmarks too.
make_venv() {
  if [ -n "$uv" ]; then "$uv" venv --python "$python" "$1"; else "$python" -m venv "$1"; fi
}
install_into() {  # install_into <venv> <pip arguments...>
  local venv="$1"; shift
  if [ -n "$uv" ]; then
    "$uv" pip install --python "$venv/bin/python" "$@"
  else
    "$venv/bin/python" -m pip install -q "$@"
  fi
}

if [ ! -x "$here/.venv-bench/bin/python" ]; then
  make_venv "$here/.venv-bench"
  install_into "$here/.venv-bench" -e "$repo[duckdb]" "$dagster_pin" \
    pyinstrument matplotlib py-spy psutil
fi
if [ ! -x "$here/.venv-anchors/bin/python" ]; then
  make_venv "$here/.venv-anchors"
  install_into "$here/.venv-anchors" "$dagster_pin" \
    acryl-datahub-dagster-plugin "dagster-openlineage==0.2.1"
fi
# Measure the committed HEAD, not a work tree that may be mid-edit: install a snapshot of
# it (git archive) into the benchmark venv. OL_BRIDGE_SRC=<dir> measures that tree instead.
src="${OL_BRIDGE_SRC:-}"
if [ -z "$src" ]; then
  src="$here/.work/src"
  rm -rf "$src" && mkdir -p "$src"
  git -C "$repo" archive HEAD | tar -x -C "$src"
  git -C "$repo" rev-parse --short HEAD > "$src/COMMIT"
fi
if [ -n "$uv" ]; then
  "$uv" pip install --python "$here/.venv-bench/bin/python" --reinstall-package ol-bridge "$src[duckdb]" "$dagster_pin"
else
  install_into "$here/.venv-bench" "$src[duckdb]" "$dagster_pin"
  install_into "$here/.venv-bench" --no-deps --force-reinstall "$src"
fi
exec "$here/.venv-bench/bin/python" "$here/run.py" "$@"
