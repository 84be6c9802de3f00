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
# A commit that changes only a module: the hook gets just that file and must audit it through
# the deployment that uses it (main.bicep, unchanged), which the change breaks.
rm -f ./*.bicep
cp -r "$repo/fixtures/deployments/correct/." .
git add -A && git commit -q -m "a correct project"
set +e
out=$(pre-commit try-repo "$repo" azaudit --files modules/network.bicep 2>&1)
code=$?
set -e
if [ $code -ne 0 ]; then echo "$out" | tail -n 20; echo "pre-commit: the correct project failed the hook"; exit 1; fi
cp "$repo/fixtures/deployments/project/modules/network.bicep" modules/network.bicep
git add modules/network.bicep
set +e
out=$(pre-commit try-repo "$repo" azaudit --files modules/network.bicep 2>&1)
code=$?
set -e
echo "$out" | tail -n 20
if [ $code -eq 0 ]; then echo "pre-commit: a module change that breaks its deployment passed the hook"; exit 1; fi
if ! echo "$out" | grep -q "apim-subnet-delegation"; then echo "pre-commit: the hook did not name apim-subnet-delegation"; exit 1; fi
echo "pre-commit: the hook fails the bad template, passes the good one, and fails a module change that breaks its deployment"
