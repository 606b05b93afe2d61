#!/usr/bin/env bash
# Simulates a citizen's SMS reply as Twilio would post it, signed with X-Twilio-Signature.
#   tools/citizen-reply.sh "+33612345678" "Oui merci"
# Uses PublicBaseUrl (default http://127.0.0.1:5080) and Twilio__AuthToken (default: the token
# ./run.sh generated in .data/twilio-token). Prints the TwiML answer the citizen would receive.
set -euo pipefail
cd "$(dirname "$0")/.."
from=${1:?usage: tools/citizen-reply.sh <from, E.164> <text>}
body=${2:?usage: tools/citizen-reply.sh <from, E.164> <text>}
base=${PublicBaseUrl:-http://127.0.0.1:5080}
token=${Twilio__AuthToken:-$(cat .data/twilio-token 2>/dev/null || true)}
[[ -n "$token" ]] || { echo "Set Twilio__AuthToken (or start ./run.sh, which writes .data/twilio-token)." >&2; exit 2; }
to=${Twilio__FromNumber:-+33700000000}
sid="SM$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
url="$base/twilio/sms/inbound"
# Twilio signs the URL followed by each parameter name and value, names in alphabetical order.
signature=$(printf '%s' "${url}Body${body}From${from}MessageSid${sid}To${to}" | openssl dgst -sha1 -hmac "$token" -binary | base64)
curl -sS "$url" -H "X-Twilio-Signature: $signature" \
  --data-urlencode "Body=$body" --data-urlencode "From=$from" --data-urlencode "MessageSid=$sid" --data-urlencode "To=$to"
echo
