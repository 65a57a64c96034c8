#!/usr/bin/env bash
# prompts.sh: regenerate the system prompts that internal/prompts embeds.
#
# For every list internal/prompts/lang/<lang>.txt (lines "name|text") it
# writes internal/prompts/lang/<lang>/<name>.wav: PCM 16-bit mono 8000 Hz,
# silence trimmed to 100 ms at each end, normalised to -3 dBFS. The output is
# committed, so a fresh install needs neither espeak-ng nor sox.
#
# The script is idempotent and deterministic: the same lists and tool versions
# give the same bytes (no dither, repeatable random seed), a file is only
# rewritten when its bytes change, and WAVs no longer listed are removed.
# It installs nothing; on Debian: apt-get install -y espeak-ng sox.
set -euo pipefail
cd "$(dirname "$0")/.."
root=internal/prompts/lang

missing=()
for tool in espeak-ng sox; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "prompts: missing ${missing[*]}; install with: apt-get install -y espeak-ng sox" >&2
  exit 1
fi

# Speech rate in words per minute: a little slower than espeak-ng's 175,
# because narrowband telephone audio loses consonants.
speed=160
# -D: no dither; -R: fixed seeds for pluck and noise; -V1: errors only.
sox=(sox -D -R -V1)
# The output format PortSIP uses for prompts.
fmt=(-r 8000 -c 1 -b 16 -e signed-integer -t wav)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# install_if_changed SRC DST moves SRC over DST unless DST has the same bytes,
# so that re-running leaves files and their timestamps alone.
install_if_changed() {
  if [ -f "$2" ] && cmp -s "$1" "$2"; then
    rm -f "$1"
    return
  fi
  mkdir -p "$(dirname "$2")"
  mv "$1" "$2"
  echo "prompts: wrote $2"
}

# speak VOICE TEXT DST: text to speech, then trim, resample and normalise.
speak() {
  printf '%s\n' "$2" >"$tmp/text"
  espeak-ng -v "$1" -s "$speed" -f "$tmp/text" -w "$tmp/raw.wav"
  "${sox[@]}" "$tmp/raw.wav" "${fmt[@]}" "$3" \
    silence 1 0.02 0.5% reverse silence 1 0.02 0.5% reverse \
    rate -v 8000 norm -3 pad 0.1 0.1
}

# chord DST NOTE...: a 1.25 s guitar strum of the notes.
chord() {
  local dst=$1
  shift
  local args=() delays=() d=0
  for n in "$@"; do
    args+=(pl "$n")
    delays+=("0.$(printf %02d "$d")")
    d=$((d + 4))
  done
  "${sox[@]}" -n "${fmt[@]}" "$dst" synth 1.25 "${args[@]}" delay "${delays[@]}" \
    remix - fade 0 1.25 0.2
}

# tone KIND DST: the prompts that are not speech.
tone() {
  case $1 in
  beep)
    "${sox[@]}" -n "${fmt[@]}" "$2" synth 0.25 sine 1000 fade h 0.01 0.25 0.01 norm -3
    ;;
  moh)
    # Ten seconds of C Am F G, twice, to loop under held calls.
    local i=0 parts=()
    for c in "C3 G3 C4 E4" "A2 E3 A3 C4" "F2 C3 F3 A3" "G2 D3 G3 B3" \
      "C3 G3 C4 E4" "A2 E3 A3 C4" "F2 C3 F3 A3" "G2 D3 G3 B3"; do
      # shellcheck disable=SC2086 # split the chord into notes
      chord "$tmp/chord$i.wav" $c
      parts+=("$tmp/chord$i.wav")
      i=$((i + 1))
    done
    "${sox[@]}" "${parts[@]}" "${fmt[@]}" "$2" norm -6
    ;;
  *)
    echo "prompts: unknown tone $1" >&2
    return 1
    ;;
  esac
}

shopt -s nullglob
lists=("$root"/*.txt)
if [ ${#lists[@]} -eq 0 ]; then
  echo "prompts: no lists in $root" >&2
  exit 1
fi

for list in "${lists[@]}"; do
  lang=$(basename "$list" .txt)
  if ! [[ $lang =~ ^[a-z0-9_-]+$ ]]; then
    echo "prompts: $list: language must match [a-z0-9_-]+" >&2
    exit 1
  fi
  out=$root/$lang
  voice=$lang
  declare -A seen=()
  count=0
  lineno=0
  while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    case $line in '' | '#'*) continue ;; esac
    name=${line%%|*}
    text=${line#*|}
    if [ "$name" = "$line" ] || [ -z "$text" ]; then
      echo "prompts: $list:$lineno: want name|text" >&2
      exit 1
    fi
    if [ "$name" = "@voice" ]; then
      voice=$text
      continue
    fi
    if ! [[ $name =~ ^[a-z0-9_-]+(/[a-z0-9_-]+)*$ ]]; then
      echo "prompts: $list:$lineno: name $name must be [a-z0-9_-] segments joined by /" >&2
      exit 1
    fi
    if [ -n "${seen[$name]:-}" ]; then
      echo "prompts: $list:$lineno: duplicate name $name" >&2
      exit 1
    fi
    seen[$name]=1
    case $text in
    '@tone '*) tone "${text#@tone }" "$tmp/out.wav" ;;
    *) speak "$voice" "$text" "$tmp/out.wav" ;;
    esac
    install_if_changed "$tmp/out.wav" "$out/$name.wav"
    count=$((count + 1))
  done <"$list"

  # Remove prompts that the list no longer names, and directories left empty.
  if [ -d "$out" ]; then
    while IFS= read -r -d '' f; do
      rel=${f#"$out"/}
      if [ -z "${seen[${rel%.wav}]:-}" ]; then
        rm -f "$f"
        echo "prompts: removed $f"
      fi
    done < <(find "$out" -type f -print0)
    find "$out" -mindepth 1 -type d -empty -delete
  fi
  echo "prompts: $lang: $count prompts, $(du -sk "$out" | cut -f1) KiB on disk"
  unset seen
done
