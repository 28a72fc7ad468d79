#!/bin/sh
# git-ledger hook shim, for systems without symbolic links. Installed by
# `git ledger hooks install`; `git ledger hooks uninstall` removes it and restores any hook
# that was here before (kept as <name>.ledger-chained, and run first by git-ledger).
exec '@BINARY@' hook @HOOK@ "$@"
