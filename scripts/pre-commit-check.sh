#!/usr/bin/env bash
# Runs the real pre-commit tool with this repository's hook on a throwaway repository:
# a bad template must fail the hook, a good one must pass.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Reuse the project's build so the hook's `cargo install` doesn't compile everything again.
export CARGO_TARGET_DIR="$repo/target"
export PRE_COMMIT_HOME="$work/cache"
cd "$work"
git init -q fixture && cd fixture
git config user.email ci@example.com && git config user.name ci
for kind in good bad; do
  rm -f ./*.bicep
  cp "$repo/fixtures/pre-commit/$kind/main.bicep" main.bicep
  git add main.bicep
  set +e
  out=$(pre-commit try-repo "$repo" azaudit --files main.bicep 2>&1)
  code=$?
  set -e
  echo "$out" | tail -n 20
  if [ "$kind" = good ] && [ $code -ne 0 ]; then echo "pre-commit: the good template failed the hook"; exit 1; fi
  if [ "$kind" = bad ] && [ $code -eq 0 ]; then echo "pre-commit: the bad template passed the hook"; exit 1; fi
  if [ "$kind" = bad ] && ! echo "$out" | grep -q "apim-vnet-sku-support"; then echo "pre-commit: the hook did not name apim-vnet-sku-support"; exit 1; fi
done
echo "pre-commit: the hook fails the bad template and passes the good one"
