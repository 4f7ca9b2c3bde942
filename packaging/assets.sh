#!/usr/bin/env bash
# Generate the man pages and completions `cargo deb` packages, with the binary it packages.
# Usage: packaging/assets.sh PATH/TO/triage
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:?usage: packaging/assets.sh PATH/TO/triage}
out=target/assets
rm -rf "$out"
mkdir -p "$out/man" "$out/completions"
"$bin" man --dir "$out/man"
"$bin" completions bash > "$out/completions/triage.bash"
"$bin" completions zsh > "$out/completions/_triage"
"$bin" completions fish > "$out/completions/triage.fish"
