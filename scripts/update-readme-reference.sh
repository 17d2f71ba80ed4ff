#!/usr/bin/env bash
# Regenerates the component reference in README.md from `wattline describe --markdown`.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=$(./build/wattline describe --markdown)
python3 - "$ref" <<'PY'
import sys
ref = sys.argv[1].rstrip('\n')
s = open('README.md').read()
b, e = '<!-- BEGIN COMPONENT REFERENCE -->', '<!-- END COMPONENT REFERENCE -->'
a = s.index(b) + len(b)
z = s.index(e)
open('README.md', 'w').write(s[:a] + '\n' + ref + '\n' + s[z:])
PY
