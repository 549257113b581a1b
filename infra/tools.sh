# Installs the command-line tools the tests need into infra/.tools, once. Sourced by
# infra/test-all; each ensure_* function is idempotent and cheap when the tool is there.

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.tools"
mkdir -p "$TOOLS_DIR"

# A Python virtualenv for the PyPI tools (cfn-lint; later moto and the SAM CLI).
ensure_python_tools() {
  local venv="$TOOLS_DIR/venv" stamp
  stamp="$TOOLS_DIR/venv/.installed-$(echo "$*" | sha1sum | cut -c1-12)"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  if [ ! -f "$stamp" ]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@"
    touch "$stamp"
  fi
  export PATH="$venv/bin:$PATH"
}

ensure_cfn_lint() {
  ensure_python_tools "cfn-lint==1.*"
}
