#!/usr/bin/env bash
# One command for all benchmarks: bash benchmarks/run.sh [run.py options, e.g. --quick]
# Creates two venvs next to this script (gitignored) on first use:
#   .venv-bench    ol-bridge (editable, with the duckdb extra) + pyinstrument, matplotlib
#   .venv-anchors  acryl-datahub-dagster-plugin + dagster-openlineage 0.2.1, same dagster
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
uv="${UV:-$(command -v uv || echo /work/venv/bin/uv)}"
python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
# The dagster both venvs get: the newest that dagster-openlineage 0.2.1 and the plugin
# accept together (checked when this file was written).
dagster_pin="${DAGSTER_PIN:-dagster==1.13.27}"

if [ ! -x "$here/.venv-bench/bin/python" ]; then
  "$uv" venv --python "$python" "$here/.venv-bench"
  "$uv" pip install --python "$here/.venv-bench/bin/python" -e "$repo[duckdb]" "$dagster_pin" \
    pyinstrument matplotlib py-spy psutil
fi
if [ ! -x "$here/.venv-anchors/bin/python" ]; then
  "$uv" venv --python "$python" "$here/.venv-anchors"
  "$uv" pip install --python "$here/.venv-anchors/bin/python" "$dagster_pin" \
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
"$uv" pip install --python "$here/.venv-bench/bin/python" --reinstall-package ol-bridge "$src[duckdb]" "$dagster_pin"
exec "$here/.venv-bench/bin/python" "$here/run.py" "$@"
