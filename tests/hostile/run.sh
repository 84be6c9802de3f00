#!/usr/bin/env bash
# Hostile inputs under a 4 GB address-space limit (ulimit -v 4194304): every input is audited
# beside a known-bad API Management template, which must still be reported; no run may crash,
# abort or hang, and each prints a JSON report. Prints a table: input, exit code, time, peak
# memory, verdict. Exit status 1 when a verdict is FAIL.
#
#   bash tests/hostile/run.sh [BINARY]      (default: target/release/azaudit)
set -uo pipefail
cd "$(dirname "$0")/../.."
bin="$(realpath "${1:-target/release/azaudit}")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
bad_apim="$(tail -n +2 fixtures/policies/apim-subnet-delegation/fail.bicep)"
failures=0

# case NAME: a folder $work/NAME with main.bicep (the bad API Management) beside what setup added.
new_case() {
  mkdir -p "$work/$1"
  printf '%s\n' "$bad_apim" > "$work/$1/apim.bicep"
}

# run NAME EXPECT [ARGS...]: audits $work/NAME; EXPECT is the exit code wanted ("1" or "2").
run() {
  local name="$1" expect="$2"; shift 2
  local dir="$work/$name"
  local out="$work/$name.out" err="$work/$name.err" tm="$work/$name.time"
  (
    cd "$dir" || exit 99
    ulimit -v 4194304
    exec /usr/bin/time -f "%e %M" -o "$tm" timeout 300 "$bin" check --format json "$@" > "$out" 2> "$err"
  )
  local code=$?
  local secs kb
  read -r secs kb < <(tail -n 1 "$tm" 2>/dev/null || echo "? ?")
  local verdict=ok why=""
  if ! python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out" 2>/dev/null; then
    verdict=FAIL why="no JSON report"
  elif ! grep -q '"apim-subnet-delegation"' "$out"; then
    verdict=FAIL why="the API Management error is missing"
  elif [ "$code" != "$expect" ]; then
    verdict=FAIL why="exit $code, expected $expect"
  fi
  [ "$verdict" = FAIL ] && failures=$((failures + 1))
  printf '| %-44s | %4s | %6s s | %7s MB | %s %s |\n' "$name" "$code" "$secs" "$((${kb:-0} / 1024))" "$verdict" "$why"
}

echo "| input | exit | time | peak memory | verdict |"
echo "| --- | --- | --- | --- | --- |"

new_case heavy-loop-before
cp fixtures/hostile/heavy-nsg-loop.bicep "$work/heavy-loop-before/a-heavy.bicep"
cat "$work/heavy-loop-before/a-heavy.bicep" "$work/heavy-loop-before/apim.bicep" > "$work/heavy-loop-before/main.bicep"
rm "$work/heavy-loop-before/a-heavy.bicep" "$work/heavy-loop-before/apim.bicep"
run heavy-loop-before 1 .

new_case doubling-30-times
{
  echo "var v0 = ["; echo "  'a'"; echo "  'b'"; echo "]"
  for i in $(seq 1 30); do echo "var v$i = concat(v$((i - 1)), v$((i - 1)))"; done
  echo "output n int = length(v30)"
} > "$work/doubling-30-times/main.bicep"
run doubling-30-times 1 .

new_case string-doubling-30-times
{
  echo "var s0 = 'aaaaaaaaaaaaaaaa'"
  for i in $(seq 1 30); do echo "var s$i = '\${s$((i - 1))}\${s$((i - 1))}'"; done
  echo "output n int = length(s30)"
} > "$work/string-doubling-30-times/main.bicep"
run string-doubling-30-times 1 .

new_case module-loops-multiply
mkdir -p "$work/module-loops-multiply/m"
echo "resource n 'Microsoft.Network/networkSecurityGroups@2023-09-01' = [for i in range(0, 800): { name: 'n\${i}', location: 'westeurope' }]" > "$work/module-loops-multiply/m/leaf.bicep"
for level in 1 2 3; do
  prev=$([ "$level" = 1 ] && echo leaf || echo "l$((level - 1))")
  echo "module m './$prev.bicep' = [for i in range(0, 800): { name: 'm\${i}' }]" > "$work/module-loops-multiply/m/l$level.bicep"
done
echo "module top './m/l3.bicep' = [for i in range(0, 800): { name: 't\${i}' }]" > "$work/module-loops-multiply/main.bicep"
run module-loops-multiply 1 main.bicep apim.bicep

new_case device-and-fifo-modules
ln -s /dev/zero "$work/device-and-fifo-modules/zero.bicep"
ln -s /dev/urandom "$work/device-and-fifo-modules/random.json"
mkfifo "$work/device-and-fifo-modules/fifo.bicep"
cat > "$work/device-and-fifo-modules/main.bicep" <<'EOF'
module a '/dev/zero' = { name: 'a' }
module b 'zero.bicep' = { name: 'b' }
module c 'fifo.bicep' = { name: 'c' }
EOF
run device-and-fifo-modules 1 main.bicep apim.bicep

new_case device-named-explicitly
run device-named-explicitly 1 apim.bicep /dev/zero

new_case reads-outside-the-project
cat > "$work/reads-outside-the-project/main.bicep" <<'EOF'
module a '../../../../../../../../etc/shadow' = { name: 'a' }
module b '/etc/passwd' = { name: 'b' }
EOF
echo "using '../../../../../../../../etc/passwd'" > "$work/reads-outside-the-project/main.bicepparam"
cat > "$work/reads-outside-the-project/spec.json" <<'EOF'
{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
 "resources": [{"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "s",
   "properties": {"mode": "Incremental", "templateLink": {"id": "../../../../../../etc/passwd"}}}]}
EOF
run reads-outside-the-project 1 .
if grep -q 'root:' "$work/reads-outside-the-project.out"; then
  echo "FAIL: /etc/passwd was quoted"; failures=$((failures + 1))
fi

new_case lone-cr-line-endings
printf '// a comment\r%s\n' "$(printf '%s' "$bad_apim" | tr '\n' '\r')" > "$work/lone-cr-line-endings/apim.bicep"
run lone-cr-line-endings 1 .

new_case closers-20000-lines
for _ in $(seq 1 20000); do echo "}"; done > "$work/closers-20000-lines/braces.bicep"
run closers-20000-lines 1 .

new_case missing-path-and-unreadable
run missing-path-and-unreadable 2 does-not-exist.bicep apim.bicep

new_case copy-count-out-of-range
for n in 1000000000 -5; do
  cat > "$work/copy-count-out-of-range/copy$n.json" <<EOF
{"\$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
 "resources": [{"type": "Microsoft.Network/networkSecurityGroups", "apiVersion": "2023-09-01", "name": "[format('n{0}', copyIndex())]",
   "location": "westeurope", "copy": {"name": "c", "count": $n}}]}
EOF
done
run copy-count-out-of-range 1 .

new_case duplicate-keys-and-1e400
cat > "$work/duplicate-keys-and-1e400/dup.json" <<'EOF'
{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
 "parameters": {"n": {"type": "int", "defaultValue": 1e400}},
 "resources": [{"type": "Microsoft.Storage/storageAccounts", "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01",
   "name": "a", "name": "b", "location": "westeurope"}]}
EOF
run duplicate-keys-and-1e400 1 .

new_case terminal-escapes
printf "module m 'x\\\\u{1B}]0;owned\\\\u{7}.bicep' = { name: 'm' }\n" > "$work/terminal-escapes/main.bicep"
run terminal-escapes 1 .
if (cd "$work/terminal-escapes" && "$bin" check --format text . ; "$bin" check --format github .) 2>&1 | grep -q $'\x1b'; then
  echo "FAIL: a raw ESC reached the terminal"; failures=$((failures + 1))
fi

echo
if [ "$failures" -gt 0 ]; then
  echo "$failures hostile input(s) failed"
  exit 1
fi
echo "every hostile input was handled"
