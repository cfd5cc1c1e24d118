#!/usr/bin/env bash
# What `npm run test:interop` needs beyond Node and npm, installed from Debian in one step when missing (root and
# apt-get), otherwise named in one line, exit 1. Debian's packages because the independent-client tests use
# /usr/bin/python3 and /usr/bin/aws, where they install:
#   python3-cryptography  the reference entitlement-file verifier (python3 on PATH)
#   python3-botocore python3-jwt awscli (v2)  the independent clients of test/cli/independent-clients.test.ts
set -uo pipefail
missing=()
python3 -c 'import cryptography' >/dev/null 2>&1 || missing+=(python3 python3-cryptography)
/usr/bin/python3 -c 'import botocore, jwt, cryptography' >/dev/null 2>&1 || missing+=(python3 python3-botocore python3-jwt python3-cryptography)
/usr/bin/aws --version 2>/dev/null | grep -q '^aws-cli/2\.' || missing+=(awscli)
[ ${#missing[@]} -eq 0 ] && exit 0
packages=$(printf '%s\n' "${missing[@]}" | sort -u | paste -sd' ')
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "test:interop: installing ${packages}" >&2
  # shellcheck disable=SC2086 # one word per package
  apt-get update -qq && apt-get install -y -qq $packages >/dev/null && exit 0
fi
echo "test:interop needs the Debian packages ${packages}: apt-get install -y ${packages}" >&2
exit 1
