#!/usr/bin/env bash
# Runs the real pre-commit tool with this repository's hooks on a throwaway repository:
# a bad template must fail each hook, a good one must pass.
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

# The `azaudit-system` hook (language: system) and the README's `repo: local` example, verbatim,
# run the binary on PATH: the one CI just built.
bin="$repo/target/release"
[ -x "$bin/azaudit" ] || bin="$repo/target/debug"
export PATH="$bin:$PATH"
awk '/<!-- pre-commit-local:begin -->/{f=1;next} /<!-- pre-commit-local:end -->/{f=0} f' "$repo/README.md" \
  | sed -e '/^```/d' > .pre-commit-config.yaml
grep -q "language: system" .pre-commit-config.yaml || { echo "pre-commit: the README example was not found"; exit 1; }
for kind in good bad; do
  cp "$repo/fixtures/pre-commit/$kind/main.bicep" main.bicep
  git add main.bicep .pre-commit-config.yaml
  for run in "try-repo $repo azaudit-system" "run"; do
    set +e
    # shellcheck disable=SC2086
    out=$(pre-commit $run --files main.bicep 2>&1)
    code=$?
    set -e
    if [ "$kind" = good ] && [ $code -ne 0 ]; then echo "$out" | tail -n 20; echo "pre-commit $run: the good template failed"; exit 1; fi
    if [ "$kind" = bad ] && { [ $code -eq 0 ] || ! echo "$out" | grep -q "apim-vnet-sku-support"; }; then
      echo "$out" | tail -n 20; echo "pre-commit $run: the bad template passed or was not named"; exit 1
    fi
  done
done
# A commit that touches only JSON that is not a template passes (the named file was looked at).
echo '{"name": "x"}' > package.json && git add package.json
pre-commit run --files package.json >/dev/null 2>&1 || { echo "pre-commit: a non-template JSON file failed the hook"; exit 1; }
git rm -q --cached package.json main.bicep .pre-commit-config.yaml && rm -f package.json main.bicep .pre-commit-config.yaml
echo "pre-commit: azaudit-system and the README example fail the bad template and pass the good one"
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
