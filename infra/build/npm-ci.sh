#!/bin/sh
# `npm ci` with the one fallback .ci/run allows, for the container images.
#
# npm (npm/cli#4828, #8320) cannot record an optional dependency for another
# platform when the registry lacks that version (ours has no
# @turbo/darwin-64@2.11.11), and `npm ci` then reports it as "Missing: NAME@
# from lock file" (no version). Only in that case, install from the lock file
# with `npm install`; a real mismatch (a version is named) still fails.
# Extra arguments (`--omit=dev --workspace=router`) go to both commands.
set -eu
log="$(mktemp)"
if npm ci --no-audit --no-fund "$@" >"$log" 2>&1; then
  cat "$log"
  rm -f "$log"
  exit 0
fi
cat "$log" >&2
if grep -q 'Missing: ' "$log" && ! grep -Eq 'Missing: .+@[^@ ]+ from lock file' "$log"; then
  echo "npm ci refused only optional packages for other platforms that the registry lacks; running npm install" >&2
  rm -f "$log"
  exec npm install --no-audit --no-fund "$@"
fi
rm -f "$log"
exit 1
