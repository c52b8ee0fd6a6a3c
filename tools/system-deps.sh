#!/usr/bin/env bash
# The programs a few tests drive (not Python packages): Debian's chromium (and its chromedriver, for the
# dashboard test) for the browser tests, poppler's
# pdftoppm for the PDF test, PostgreSQL's server for the store tests on PostgreSQL. Installed with apt
# when this runs as root and they are missing; otherwise the tests that need them are skipped with the
# package to install (and fail under CI, which sets RECUR_REQUIRE_PROGRAMS=1).
set -uo pipefail
missing=()
command -v chromium >/dev/null || command -v chromium-browser >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v pdftoppm >/dev/null || missing+=(poppler-utils)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0
if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing ${missing[*]} for the browser and PDF tests" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || echo "could not install ${missing[*]}; the tests that need them will be skipped" >&2
else
  echo "not installed: ${missing[*]} (apt-get install ${missing[*]}); the tests that need them are skipped" >&2
fi
exit 0
