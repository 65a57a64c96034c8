// Package prompts holds the recorded prompts that media applications play:
// voicemail and auto-attendant phrases, numbers, dates, a beep and music on
// hold. English prompts are generated from lang/en.txt by scripts/prompts.sh
// and embedded in the binary, so a fresh install plays them without any
// files on disk.
//
// A Library resolves a prompt name to audio, letting a tenant replace any
// prompt and an administrator replace prompts or add languages system-wide
// by dropping WAV files under the data directory (see docs/PROMPTS.md).
// Every prompt is a WAV file of 16-bit PCM, mono, 8000 Hz.
//
// Number, Digits, Count, TimeOfDay and DateTime build sentences as sequences
// of prompt names, for an application to play one after the other.
package prompts
