#!/usr/bin/env bash
# Runs the real pre-commit tool with this repository's hooks on a throwaway repository: a bad
# template must fail each hook, a good one must pass. Checks the `azaudit` hook (language: rust),
# the `azaudit-system` hook (language: system, the binary on PATH) and the README's `repo: local`
# example exactly as the README writes it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Reuse the project's build so the hook's `cargo install` doesn't compile everything again.
export CARGO_TARGET_DIR="$repo/target"
export PRE_COMMIT_HOME="$work/cache"
# The `system` hooks run the binary on PATH: the one CI just built.
bin="$repo/target/release"
[ -x "$bin/azaudit" ] || bin="$repo/target/debug"
export PATH="$bin:$PATH"
cd "$work"
git init -q fixture && cd fixture
git config user.email ci@example.com && git config user.name ci

# The README's pre-commit configuration for an installed binary, verbatim.
awk '/<!-- pre-commit-local:begin -->/{f=1;next} /<!-- pre-commit-local:end -->/{f=0} f' "$repo/README.md" \
  | sed -e '/^```/d' > .pre-commit-config.yaml
grep -q "language: system" .pre-commit-config.yaml || { echo "pre-commit: README example not found"; exit 1; }

expect() { # kind, exit code, output
  local kind=$1 code=$2 out=$3 what=$4
  echo "$out" | tail -n 20
  if [ "$kind" = good ] && [ "$code" -ne 0 ]; then echo "pre-commit ($what): the good template failed the hook"; exit 1; fi
  if [ "$kind" = bad ] && [ "$code" -eq 0 ]; then echo "pre-commit ($what): the bad template passed the hook"; exit 1; fi
  if [ "$kind" = bad ] && ! echo "$out" | grep -q "apim-vnet-sku-support"; then echo "pre-commit ($what): the hook did not name apim-vnet-sku-support"; exit 1; fi
  return 0
}
for kind in good bad; do
  rm -f ./*.bicep
  cp "$repo/fixtures/pre-commit/$kind/main.bicep" main.bicep
  git add main.bicep .pre-commit-config.yaml
  for hook in azaudit azaudit-system; do
    set +e
    out=$(pre-commit try-repo "$repo" "$hook" --files main.bicep 2>&1)
    code=$?
    set -e
    expect "$kind" "$code" "$out" "$hook"
  done
  set +e
  out=$(pre-commit run --files main.bicep 2>&1)
  code=$?
  set -e
  expect "$kind" "$code" "$out" "README example"
done
# A commit that only touches JSON that is not a template passes (nothing to audit is not a failure
# when the named files were looked at).
echo '{"name": "x"}' > package.json && git add package.json
pre-commit run azaudit --files package.json >/dev/null 2>&1 || { echo "pre-commit: a non-template JSON file failed the hook"; exit 1; }
echo "pre-commit: the hooks and the README example fail the bad template and pass the good one"
