#!/bin/sh
# Regenerates reports/evaluation/:
#  - profiles.md / profiles.json: the product over every company profile of `exitwatch generate` (400 employees x
#    100 days, seeds 1 and 2); the headline is the worst profile. Companies go to var/evaluation (gitignored) and
#    are reused when already there. About 30 minutes on a busy 2-core machine.
#  - outside/profiles.md: the three companies of exitwatch/generate_outside.py, written apart from generate.py.
#  - seed3/ ... seed9/: the nine profiles at seeds 3 to 9 (seed 9 held out from tuning in the fifteenth session,
#    seed 8 in the fourteenth, seed 7 in the thirteenth, seed 6 in the twelfth, seed 5 in the eleventh, seed 4 in
#    the tenth; see the README).
#  - report.md / report.json / risk.png: one 1,000-employee, 120-day baseline company through every detector
#    (rules, model, both, naive reference). The company goes to var/company (~520 MB). About 5 minutes.
set -eu
cd "$(dirname "$0")/../.."
EW="${EXITWATCH:-.venv/bin/exitwatch}"
"$EW" evaluate --size full --work var/evaluation --out reports/evaluation --progress
"$EW" evaluate --profiles outside --seeds 1,2 --employees 400 --days 100 --work var/evaluation --out reports/evaluation/outside --progress
# seeds 3 to 8 (development seeds since the tenth to fifteenth sessions) and seed 9 (held out in the fifteenth
# session). --resume: a company already run by this code is read back (a stopped run goes on where it stopped)
for s in 3 4 5 6 7 8 9; do
  "$EW" evaluate --profiles own --seeds $s --employees 400 --days 100 --work var/evaluation --out reports/evaluation/seed$s --progress --resume
  "$EW" evaluate --profiles outside --seeds $s --employees 400 --days 100 --work var/evaluation --out reports/evaluation/seed$s/outside --progress --resume
done
"$EW" generate --employees 1000 --days 120 --seed 7 --out var/company
"$EW" evaluate --data var/company --out reports/evaluation
