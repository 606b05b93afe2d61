#!/usr/bin/env bash
# Renders what a citizen hears on a reminder call to a WAV file with espeak-ng (French voice),
# so that a person can listen to it. Twilio speaks the same text with Amazon Polly's Léa.
#   tools/voice-preview.sh [out.wav] [kind] [service] [place] [startsAt]
#   tools/voice-preview.sh call.wav reminder "RSA" "UTS Toulon Ouest" 2026-12-03T09:30:00+01:00
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-voice-preview.wav}
command -v espeak-ng >/dev/null || { echo "Installing espeak-ng..." >&2; apt-get update -qq && apt-get install -y -qq espeak-ng >/dev/null; }
dotnet build tools/VoicePreview -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
text=$(dotnet tools/VoicePreview/bin/Release/net10.0/RappelRdv.VoicePreview.dll "${2:-reminder}" "${3:-RSA}" "${4:-UTS Toulon Ouest}" "${5:-2026-12-03T09:30:00+01:00}")
printf '%s\n' "$text"
espeak-ng -v fr -s 150 -w "$out" "$text"
echo "Written: $out" >&2
