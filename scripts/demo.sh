#!/bin/sh
# deploy-ledger in five minutes: a throwaway git repository, `init`, three
# deployments (one failed), then the history. Needs only git and the
# installed binary (`cargo install --path . --locked`).
set -eu

if ! command -v deploy-ledger >/dev/null 2>&1; then
    echo "deploy-ledger is not on PATH: run \`cargo install --path . --locked\` first" >&2
    exit 1
fi

demo=$(mktemp -d "${TMPDIR:-/tmp}/deploy-ledger-demo.XXXXXX")
cd "$demo"
if [ -t 1 ]; then bold=$(printf '\033[1m'); plain=$(printf '\033[0m'); else bold=; plain=; fi
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }

git init -q
git config user.name "Demo Operator"
git config user.email demo@example.com
echo "hello" > app.txt
git add app.txt
git commit -q -m "the app"

step deploy-ledger init --make >/dev/null
git add deployments Makefile
git commit -q -m "deploy-ledger: set up the ledger"

# A fixed clock, so that the demo tells the same story every time.
export DEPLOY_LEDGER_NOW=2025-01-13T09:00:00Z
step deploy-ledger start --service api-gateway --env production --version 2.3.0 --strategy blue-green --operator alice --commit
DEPLOY_LEDGER_NOW=2025-01-13T09:04:00Z step deploy-ledger phase execution
step deploy-ledger check "Change approved"
step deploy-ledger check "Traffic shifted"
DEPLOY_LEDGER_NOW=2025-01-13T09:11:00Z step deploy-ledger phase validation
step deploy-ledger check "Health checks green"
DEPLOY_LEDGER_NOW=2025-01-13T09:15:12Z step deploy-ledger finish --commit

export DEPLOY_LEDGER_NOW=2025-01-14T16:00:00Z
step deploy-ledger start --service billing --env staging --version 1.10 --operator bob
DEPLOY_LEDGER_NOW=2025-01-14T16:07:00Z step deploy-ledger finish --status failed --reason "migration timed out"

# The same through make (extra arguments go in ARGS), where make exists.
export DEPLOY_LEDGER_NOW=2025-01-15T10:30:00Z
if command -v make >/dev/null 2>&1; then
    step make -s deployment-start ARGS="--service billing --env staging --version 1.10.1 --operator bob"
    DEPLOY_LEDGER_NOW=2025-01-15T10:41:00Z step make -s deployment-finish
else
    step deploy-ledger start --service billing --env staging --version 1.10.1 --operator bob
    DEPLOY_LEDGER_NOW=2025-01-15T10:41:00Z step deploy-ledger finish
fi

step deploy-ledger list
step deploy-ledger validate
if ! deploy-ledger analytics >/dev/null 2>&1; then
    echo "(deploy-ledger analytics is not available in this build)"
else
    step deploy-ledger analytics
fi

record=$(deploy-ledger list --json --service api-gateway | sed -n 's/.*"path": "\(.*\)".*/\1/p' | head -1)
printf '\nThe demo repository is %s\nOne record: %s/%s\n' "$demo" "$demo" "$record"
