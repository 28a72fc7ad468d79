#!/bin/sh
# The merge gate in CI, for remotes that run no server hook (GitHub, GitLab): may the commit
# under test land on <branch>? Prints the verdict and exits non-zero when it may not.
#
#   hooks/ci/gate.sh <branch> [<revision>] [text|github]
#
# A CI checkout is usually shallow and holds neither the target branch nor the ledger: this
# fetches enough of the branch's history to see where the revision leaves it, and every
# ledger ref. GIT_LEDGER_REMOTE (default origin) names the remote, GIT_LEDGER_DEPTH (default
# 1000) how many more commits to fetch below a shallow checkout.
set -eu
into=${1:?usage: gate.sh <branch> [<revision>] [text|github]}
revision=${2:-HEAD}
format=${3:-text}
remote=${GIT_LEDGER_REMOTE:-origin}
if [ "$(git rev-parse --is-shallow-repository)" = true ]; then
    deepen="--deepen=${GIT_LEDGER_DEPTH:-1000}"
else
    deepen=
fi
# shellcheck disable=SC2086 # $deepen is one option or nothing
git fetch --quiet --no-tags $deepen "$remote" "+refs/heads/$into:refs/remotes/$remote/$into"
git fetch --quiet --no-tags "$remote" '+refs/ledger/*:refs/ledger/*'
git ledger init > /dev/null
exec git ledger gate check "$revision" --into "$into" --format "$format"
