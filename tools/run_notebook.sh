#!/usr/bin/env bash
# Dev-time and CI: runs examples/prompt_tuning.ipynb headless with Deno's Jupyter kernel and checks
# what it showed.
#
#   tools/run_notebook.sh                          # the notebook's own STEPS
#   NOTEBOOK_STEPS=20 tools/run_notebook.sh        # a quick check
#   NOTEBOOK_KEEP=/tmp/run.ipynb tools/run_notebook.sh   # keep the executed copy there
#
# 1. A Python venv (NOTEBOOK_VENV, default .venv-notebook/) with the Jupyter pieces pinned in
#    tools/requirements-notebook.txt, from PyPI; made again when that file changes.
# 2. The notebook's code cells, as one module, through `deno check` (the kernel runs them without
#    type checks) and `deno lint` (which reads no .ipynb); `deno fmt` formats the notebook itself.
# 3. `deno jupyter --install --force` into that venv's share/jupyter (not the user's Jupyter
#    folders); Jupyter's own folders point into a temporary one.
# 4. `jupyter nbconvert --execute` into the temporary folder: the executed copy is never written
#    beside the notebook. It fails when a cell fails; NOTEBOOK_TIMEOUT (seconds, default 900)
#    bounds the whole run.
# 5. The executed copy must hold, without error outputs, the last progress line (step N/N), the
#    loss plot (SVG) and the results table; the table is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
DENO=(npx -y deno@2.9.6)
notebook=examples/prompt_tuning.ipynb
requirements=tools/requirements-notebook.txt
venv=${NOTEBOOK_VENV:-.venv-notebook}
timeout_s=${NOTEBOOK_TIMEOUT:-900}

if ! cmp -s "$requirements" "$venv/requirements-notebook.txt"; then
  echo "notebook: making the venv $venv from $requirements"
  rm -rf "$venv"
  "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$requirements"
  "$venv/bin/pip" check --disable-pip-version-check >/dev/null
  cp "$requirements" "$venv/requirements-notebook.txt"
fi
venv=$(cd "$venv" && pwd)

work=$(mktemp -d)
check=""
trap 'rm -rf "$work"; [[ -z $check ]] || rm -f "$check"' EXIT

# The code cells as one module beside the notebook, so that its relative imports resolve; a comment
# names each cell, for the line a problem is reported at.
check=$(mktemp examples/.prompt_tuning.XXXXXX.ts)
"$venv/bin/python" - "$notebook" "$check" <<'EOF'
import json, sys
cells = json.load(open(sys.argv[1], encoding="utf-8"))["cells"]
code = [f"// cell {c.get('id')}\n" + "".join(c["source"]) for c in cells if c["cell_type"] == "code"]
open(sys.argv[2], "w", encoding="utf-8").write("\n\n".join(code) + "\n")
EOF
"${DENO[@]}" check --quiet "$check"
"${DENO[@]}" lint --quiet "$check"

export JUPYTER_PATH="$venv/share/jupyter" # searched first: the kernelspec below
export JUPYTER_CONFIG_DIR="$work/config" JUPYTER_RUNTIME_DIR="$work/runtime"
export JUPYTER_PLATFORM_DIRS=1
# deno writes the kernelspec to $XDG_DATA_HOME/jupyter/kernels/deno, naming its own binary.
XDG_DATA_HOME="$venv/share" "${DENO[@]}" jupyter --install --force >"$work/install.log" 2>&1 || {
  cat "$work/install.log" >&2
  echo "notebook: deno jupyter --install failed" >&2
  exit 1
}

echo "notebook: executing $notebook (NOTEBOOK_STEPS=${NOTEBOOK_STEPS:-unset, the default})"
start=$SECONDS
status=0
timeout --signal=INT --kill-after=30 "$timeout_s" "$venv/bin/jupyter" nbconvert --to notebook --execute \
  --ExecutePreprocessor.kernel_name=deno \
  --ExecutePreprocessor.timeout="$timeout_s" --ExecutePreprocessor.startup_timeout=120 \
  --output-dir "$work" --output executed "$notebook" || status=$?
if ((status == 124 || status == 137)); then
  echo "notebook: $notebook ran past NOTEBOOK_TIMEOUT=${timeout_s}s" >&2
  exit 1
elif ((status != 0)); then
  echo "notebook: $notebook failed (nbconvert exit $status; the failing cell is above)" >&2
  exit 1
fi
echo "notebook: executed in $((SECONDS - start)) s"
if [[ -n ${NOTEBOOK_KEEP:-} ]]; then cp "$work/executed.ipynb" "$NOTEBOOK_KEEP"; fi

"$venv/bin/python" - "$work/executed.ipynb" <<'EOF'
import json, re, sys

path = sys.argv[1]
cells = {c.get("id"): c for c in json.load(open(path, encoding="utf-8"))["cells"]}


def outputs(cell_id):
    cell = cells.get(cell_id)
    if cell is None:
        sys.exit(f"notebook: {path}: no cell with id {cell_id!r}; expected the notebook's cells")
    return cell["outputs"]


def texts(cell_id, mime):
    for o in outputs(cell_id):
        value = o.get("data", {}).get(mime) if "data" in o else None
        if mime == "text/plain" and o["output_type"] == "stream":
            value = o["text"]
        if value is not None:
            yield value if isinstance(value, str) else "".join(value)


errors = [(i, o) for i, c in cells.items() if c["cell_type"] == "code"
          for o in c["outputs"] if o["output_type"] == "error"]
if errors:
    i, o = errors[0]
    sys.exit(f"notebook: {path}: cell {i!r} has an error output: {o.get('ename')}: {o.get('evalue')}")
progress = [m for t in texts("train", "text/plain") for m in re.finditer(r"step (\d+)/(\d+) ", t)]
if not progress or progress[-1].group(1) != progress[-1].group(2):
    sys.exit(f"notebook: {path}: cell 'train' shows no final progress line (step N/N)")
if not any("<svg" in t and "<polyline" in t for t in texts("plot", "image/svg+xml")):
    sys.exit(f"notebook: {path}: cell 'plot' shows no SVG loss curve (image/svg+xml)")
table = [t for t in texts("eval", "text/markdown") if "test accuracy" in t and "prompt-tuned" in t]
if not table:
    sys.exit(f"notebook: {path}: cell 'eval' shows no results table (text/markdown)")
print(f"notebook: outputs checked; the last progress line: {progress[-1].group(0)}…")
print(table[0])
EOF
