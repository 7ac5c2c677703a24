#!/bin/sh
# Regenerate specs/slack/block-kit.schema.json from Slack's published Block Kit types (@slack/types, MIT),
# with the versions pinned below, and copy @slack/types' licence beside it. Needs node >= 18 and npm;
# the tests never do (they read the generated file). Run from anywhere:  sh tools/block_kit_schema.sh
set -eu

SLACK_TYPES=3.2.0
GENERATOR=2.4.0   # ts-json-schema-generator; 2.5+ needs node 22
TYPESCRIPT=5.8.3

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp "$root/tools/block_kit_schema.ts" "$work/entry.ts"
cat >"$work/package.json" <<JSON
{"private": true, "dependencies": {"@slack/types": "$SLACK_TYPES",
 "ts-json-schema-generator": "$GENERATOR", "typescript": "$TYPESCRIPT"}}
JSON
cat >"$work/tsconfig.json" <<JSON
{"compilerOptions": {"strict": true, "module": "commonjs", "moduleResolution": "node", "skipLibCheck": true},
 "files": ["entry.ts"]}
JSON

cd "$work"
npm install --silent --no-audit --no-fund --save-exact >/dev/null
# Objects are closed (additionalProperties: false, the generator's default), as Slack refuses unknown keys.
npx --no-install ts-json-schema-generator --path entry.ts --tsconfig tsconfig.json --type '*' \
  --out "$root/specs/slack/block-kit.schema.json"
cp node_modules/@slack/types/LICENSE "$root/specs/slack/LICENSE.slack-types"
echo "specs/slack/block-kit.schema.json: @slack/types $SLACK_TYPES, ts-json-schema-generator $GENERATOR, typescript $TYPESCRIPT"
