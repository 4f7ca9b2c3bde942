#!/usr/bin/env bash
# The installed package, tried as an administrator would: the binary on PATH through a case's
# life (init, ingest, list, verify, export, import), `man triage`, and bash completing
# `triage ver` to `verify` through the bash-completion package's loader.
# Usage: packaging/smoke.sh [TRIAGE]   (default: the triage on PATH, i.e. /usr/bin/triage)
set -euo pipefail
triage=${1:-$(command -v triage)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "smoke: $triage ($("$triage" --version))"

"$triage" demo --material-only --dir "$work/material" > /dev/null
"$triage" init "$work/case"
export TRIAGE_CASE="$work/case"
"$triage" ingest --source civil-defence --json "$work/material/source-A-civil-defence" > "$work/ingest.json"
grep -q '"new":' "$work/ingest.json"
n=$("$triage" list | wc -l)
[ "$n" -gt 0 ] || { echo "smoke: list is empty" >&2; exit 1; }
"$triage" list --json | head -c 1 > /dev/null        # a closed pipe: no panic, status kept
"$triage" verify
"$triage" export --filter 'type:image' --out "$work/bag" --json > /dev/null
"$triage" init "$work/other"
"$triage" --case "$work/other" import "$work/bag" --source partner --json | grep -q '"new":'
"$triage" --case "$work/other" verify --quick
"$triage" doctor --case "$work/case" || true          # reported; CI asserts it in cargo test

# man triage renders (man-db), and the per-subcommand pages are found.
MANPAGER=cat MANWIDTH=80 man triage 2> "$work/man.err" | grep -q 'verify' \
  || { cat "$work/man.err" >&2; echo "smoke: man triage did not render" >&2; exit 1; }
man -w triage-export > /dev/null

# bash-completion loads the packaged script on demand; `triage ver<TAB>` is `verify`.
got=$(bash --norc --noprofile -c '
  source /usr/share/bash-completion/bash_completion
  _completion_loader triage
  fn=$(complete -p triage | sed -E "s/.*-F ([^ ]+).*/\1/")
  COMP_WORDS=(triage ver); COMP_CWORD=1; COMP_LINE="triage ver"; COMP_POINT=${#COMP_LINE}
  "$fn" triage ver triage
  echo "${COMPREPLY[*]}"')
[ "$got" = verify ] || { echo "smoke: triage ver<TAB> gave '$got'" >&2; exit 1; }
echo "smoke: ok"
