#!/usr/bin/env bash
# Installs what the browser tests and the translation check need from Debian:
# Chromium (driven by Playwright), fonts that draw Arabic, and gettext.
# Without root, it says what is missing; the browser tests then skip, visibly.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v xgettext >/dev/null 2>&1 || missing+=(gettext)
[ -e /usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf ] \
  || [ -e /usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf ] || missing+=(fonts-noto-core)

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing from Debian: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Not installed: ${missing[*]}. As root: apt-get install ${missing[*]}" >&2
  echo "Browser tests will be skipped; the translation check needs gettext." >&2
fi
