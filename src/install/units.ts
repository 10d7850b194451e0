// The systemd units of systemd/, embedded in the binary as text by esbuild (import attribute
// type 'text'). Only the built binary loads this module: node and tsx cannot import text files.
import lvsdService from '../../systemd/lvsd.service' with { type: 'text' };

export const UNITS: Record<string, string> = { 'lvsd.service': lvsdService };
