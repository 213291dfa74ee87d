#!/bin/sh
# Regenerates reports/evaluation/ (report.md, report.json, risk.png) from a 1,000-employee, 120-day synthetic
# company. The company itself goes to var/company (gitignored, ~520 MB); each detector's alerts land there too.
# About 3 minutes on a 2-core machine.
set -eu
cd "$(dirname "$0")/../.."
EW="${EXITWATCH:-.venv/bin/exitwatch}"
"$EW" generate --employees 1000 --days 120 --seed 7 --out var/company
"$EW" evaluate --data var/company --out reports/evaluation
