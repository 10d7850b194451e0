import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { agentPage, lvskitPage, parseHelp, roffText, subcommands } from '../../../src/install/manpage';

// commander's help as the binary prints it (80 columns, wrapped descriptions).
const MAIN = `Usage: lvskit [options] [command]

Highly available LVS (IPVS) directors under pacemaker

Options:
  -V, --version                 print the version
  -h, --help                    display help for command

Commands:
  install [options]             install the binary, the OCF agent names and the
                                systemd units
  realserver [options] <action>  configure this host as a DR real server
  help [command]                display help for command
`;

const INSTALL = `Usage: lvskit install [options]

install the binary, the OCF agent names (ocf:heartbeat:lvs, lvsd) and the
systemd units

Options:
  --prefix <dir>     installation prefix (default: "/usr")
  --uninstall        remove what install put in place (listed in
                     PREFIX/share/lvskit/installed.txt)
  -h, --help         display help for command

Environment:
  OCF_ROOT  root of the OCF agents
`;

const REALSERVER = `Usage: lvskit realserver [options] <action>

configure this host as a DR real server for a VIP

Arguments:
  action               up, down or status

Options:
  --vip <addr>         virtual IP address
  -h, --help           display help for command
`;

const META = `<?xml version="1.0"?>
<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="lvs" version="0.1.0">
<version>1.0</version>
<longdesc lang="en">Makes a director. .Leading dots and back\\slashes are text.</longdesc>
<shortdesc lang="en">LVS director</shortdesc>
<parameters>
<parameter name="vip" unique="1" required="1">
<longdesc lang="en">The virtual IP address.</longdesc>
<shortdesc lang="en">VIP</shortdesc>
<content type="string" />
</parameter>
<parameter name="arp_count" unique="0" required="0">
<longdesc lang="en">Gratuitous ARPs.</longdesc>
<shortdesc lang="en">count</shortdesc>
<content type="integer" default="5" />
</parameter>
</parameters>
<actions>
<action name="start" timeout="20s" />
<action name="monitor" timeout="20s" interval="10s" role="Promoted" />
<action name="monitor" timeout="20s" interval="11s" />
<action name="meta-data" timeout="5s" />
</actions>
</resource-agent>
`;

const INFO = { version: '0.1.0', date: '2026-11-21' };

/** groff's own opinion of the page: no warnings, and the text it renders. */
function render(page: string): { text: string; warnings: string } {
  const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-rLL=200n'], { input: page, encoding: 'utf8', env: { PATH: '/usr/bin:/bin', LC_ALL: 'C.UTF-8' } });
  assert.equal(r.status, 0, r.stderr);
  return { text: r.stdout.replace(/.\x08/g, ''), warnings: r.stderr };
}

describe('install/manpage', () => {
  it('reads usage, description and sections from commander help, joining wrapped lines', () => {
    const h = parseHelp(INSTALL);
    assert.equal(h.usage, 'lvskit install [options]');
    assert.deepEqual(h.paragraphs, ['install the binary, the OCF agent names (ocf:heartbeat:lvs, lvsd) and the systemd units']);
    assert.deepEqual(h.sections.map((s) => s.title), ['Options', 'Environment']);
    assert.deepEqual(h.sections[0]!.entries[1], { term: '--uninstall', description: 'remove what install put in place (listed in PREFIX/share/lvskit/installed.txt)' });
    assert.deepEqual(h.sections[1]!.entries, [{ term: 'OCF_ROOT', description: 'root of the OCF agents' }]);
  });

  it('lists the subcommands, without help', () => {
    assert.deepEqual(subcommands(MAIN), ['install', 'realserver']);
  });

  it('escapes what roff would take for requests or escapes', () => {
    assert.equal(roffText('.TH x'), '\\&.TH x');
    assert.equal(roffText("'quoted"), "\\&'quoted");
    assert.equal(roffText('a\\b'), 'a\\eb');
  });

  it('makes lvskit(8) that groff renders without warnings, with every option of every command', () => {
    const page = lvskitPage(MAIN, [{ name: 'install', help: INSTALL }, { name: 'realserver', help: REALSERVER }], INFO);
    assert.match(page, /^\.TH "LVSKIT" "8" "2026-11-21" "lvskit 0\.1\.0"/m);
    const { text, warnings } = render(page);
    assert.equal(warnings, '');
    for (const want of ['lvskit - Highly available LVS (IPVS) directors under pacemaker', 'lvskit install [options]', '--prefix <dir>', 'installation prefix (default: "/usr")', 'PREFIX/share/lvskit/installed.txt', 'OCF_ROOT', 'lvskit realserver [options] <action>', 'up, down or status', '--vip <addr>']) {
      assert.ok(text.includes(want), `missing '${want}' in\n${text}`);
    }
    // -h, --help once, in the program's options, not again under every command.
    assert.equal(text.split('display help for command').length - 1, 1);
  });

  it('makes ocf_heartbeat_<agent>(7) from meta-data: parameters with their traits, actions with their times', () => {
    const page = agentPage(META, INFO);
    assert.match(page, /^\.TH "OCF_HEARTBEAT_LVS" "7"/m);
    const { text, warnings } = render(page);
    assert.equal(warnings, '');
    for (const want of [
      'ocf_heartbeat_lvs - LVS director',
      'lvs [start | monitor | meta-data]',
      'Makes a director. .Leading dots and back\\slashes are text.',
      '(unique, required, string, no default)',
      '(optional, integer, default 5)',
      'role Promoted, timeout 20s, interval 10s',
    ]) {
      assert.ok(text.includes(want), `missing '${want}' in\n${text}`);
    }
    assert.throws(() => agentPage('<nothing/>', INFO), /resource-agent/);
  });
});
