// The text files of the Debian package: version, control fields, changelog, copyright stanzas. Pure;
// used by scripts/package.ts, not by the binary.

/** package.json's version as a Debian (native) version: a pre-release sorts before its release. */
export function debianVersion(semver: string): string {
  const m = /^(\d+\.\d+\.\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$/.exec(semver);
  if (!m) throw new Error(`version '${semver}' is not semver (x.y.z[-pre][+build])`);
  // '~' sorts before anything in dpkg, as a semver pre-release sorts before its release; '-' would
  // make it a Debian revision.
  return `${m[1]}${m[2] ? `~${m[2].replace(/-/g, '.')}` : ''}${m[3] ? `+${m[3].replace(/-/g, '.')}` : ''}`;
}

/** Fills @NAME@ placeholders; every placeholder must be given and every value used. */
export function fillTemplate(template: string, values: Record<string, string>): string {
  const used = new Set<string>();
  const out = template.replace(/@([A-Z_]+)@/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`template placeholder @${name}@ has no value`);
    used.add(name);
    return v;
  });
  const unused = Object.keys(values).filter((k) => !used.has(k));
  if (unused.length > 0) throw new Error(`template has no placeholder for ${unused.join(', ')}`);
  return out;
}

/** The shlibs:Depends value from dpkg-shlibdeps -O output ("shlibs:Depends=libc6 (>= 2.34), ..."). */
export function shlibsDepends(output: string): string {
  const m = /^shlibs:Depends=(.+)$/m.exec(output);
  if (!m) throw new Error(`dpkg-shlibdeps printed no shlibs:Depends: ${output.trim()}`);
  return m[1]!.trim();
}

/** Installed-Size: KiB, every file rounded up on its own as dpkg-gencontrol does, a symlink or directory counting 1. */
export function installedSizeKiB(files: Array<{ size: number; type: 'file' | 'symlink' | 'dir' }>): number {
  return files.reduce((sum, f) => sum + (f.type === 'file' ? Math.ceil(f.size / 1024) : 1), 0);
}

/** RFC 5322 date as Debian changelogs write it: "Sat, 21 Nov 2026 07:00:00 +0000". */
export function changelogDate(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${p(d.getUTCDate())} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export function changelog(o: { version: string; maintainer: string; epochSeconds: number; changes: string[] }): string {
  const items = o.changes.map((c) => `  * ${c}`).join('\n');
  return `lvskit (${o.version}) unstable; urgency=medium\n\n${items}\n\n -- ${o.maintainer}  ${changelogDate(o.epochSeconds)}\n`;
}

/** A multi-line field value in deb822 form: continuation lines start with a space, empty ones are " .". */
export function deb822Text(text: string): string {
  return text
    .replace(/\r/g, '')
    .replace(/\t/g, '        ')
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/^\n+|\n+$/g, '')
    .split('\n')
    .map((l) => (l === '' ? ' .' : ` ${l}`))
    .join('\n');
}

export interface BundledComponent {
  /** Its files in the build tree, e.g. "node_modules/commander/*". */
  files: string;
  /** What it is, e.g. "commander 14.0.3, a JavaScript library bundled into the binary". */
  name: string;
  license: string;
  /** The component's licence file, verbatim. */
  licenseText: string;
}

/** One copyright-format 1.0 stanza for something embedded in /usr/sbin/lvskit. */
export function copyrightStanza(c: BundledComponent): string {
  const copyright = /^\s*copyright\b.*$/im.exec(c.licenseText)?.[0].trim() ?? 'see the licence below';
  return [`Files: ${c.files}`, `Comment: ${c.name}`, `Copyright: ${copyright}`, `License: ${c.license}`, deb822Text(c.licenseText)].join('\n');
}
