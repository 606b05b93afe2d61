#!/usr/bin/env bash
# Renders what a citizen hears on a reminder call to a WAV file with espeak-ng, in the citizen's
# language (fr en es pt tr ar: every language the service writes in is one espeak-ng speaks), so
# that a person can listen to it. Twilio speaks the same text with the voice of that language
# (Polly Léa, Amy, Lucía, Inês, Filiz; Google ar-XA): see docs/TEXTS.md.
#   tools/voice-preview.sh [out.wav] [kind] [service] [place] [startsAt] [language]
#   tools/voice-preview.sh call.wav reminder "RSA" "UTS Toulon Ouest" 2026-12-03T09:30:00+01:00 ar
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-voice-preview.wav}
language=${6:-fr}
if ! command -v espeak-ng >/dev/null; then
  echo "Installing espeak-ng..." >&2
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq espeak-ng >/dev/null
fi
dotnet build tools/VoicePreview -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
preview=(dotnet tools/VoicePreview/bin/Release/net10.0/RappelRdv.VoicePreview.dll "${2:-reminder}" "${3:-RSA}" "${4:-UTS Toulon Ouest}"
  "${5:-2026-12-03T09:30:00+01:00}" "$language")
text=$("${preview[@]}")
voice=$("${preview[@]}" --voice)
espeak-ng -v "$voice" -q "." 2>/dev/null || { echo "espeak-ng has no voice '$voice'" >&2; exit 2; }
printf '%s\n' "$text"
espeak-ng -v "$voice" -s 150 -w "$out" "$text"
echo "Written: $out ($voice)" >&2
