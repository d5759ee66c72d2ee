# Sourced by the Python package's benchmarks (bench/python_*.sh), from the repository root.
#   require_python CHECK PACKAGES: sets $python to $PYTHON (default bindings/python/.venv/bin/python)
#     and exits with a pip hint unless it runs the Python statement CHECK.
#   lmlab_binary: sets $lmlab to $LMLAB, else to the release binary `cargo build` makes.

require_python() {
  python=${PYTHON:-bindings/python/.venv/bin/python}
  "$python" -c "$1" || {
    echo "$python lacks what this benchmark needs: pip install ./bindings/python $2" >&2
    exit 1
  }
}

lmlab_binary() {
  lmlab=${LMLAB:-}
  if [ -z "$lmlab" ]; then
    cargo build --release -q -p lmlab-cli
    lmlab=${CARGO_TARGET_DIR:-target}/release/lmlab
  fi
}
