import { describe, expect, it } from 'vitest';
import { ConfigError, parseEnv } from '../config';

const base = { DOCKSIDE_DATA_DIR: '/tmp/dockside-settings-test' };

describe('egress settings', () => {
  it('allows the Debian mirror and the npm registry by default, plus the configured hosts', () => {
    expect(parseEnv(base).egress).toEqual(['deb.debian.org', 'registry.npmjs.org']);
    expect(parseEnv({ ...base, DOCKSIDE_EGRESS_ALLOW: ' PyPI.org, .pythonhosted.org ,deb.debian.org' }).egress).toEqual(
      ['deb.debian.org', 'registry.npmjs.org', 'pypi.org', '.pythonhosted.org'],
    );
  });

  it('adds the host of DOCKSIDE_DEBIAN_MIRROR', () => {
    const before = process.env.DOCKSIDE_DEBIAN_MIRROR;
    process.env.DOCKSIDE_DEBIAN_MIRROR = 'http://ftp.de.debian.org/debian';
    try {
      expect(parseEnv(base).egress).toContain('ftp.de.debian.org');
    } finally {
      if (before === undefined) delete process.env.DOCKSIDE_DEBIAN_MIRROR;
      else process.env.DOCKSIDE_DEBIAN_MIRROR = before;
    }
  });

  it('turns off with DOCKSIDE_EGRESS=off', () => {
    expect(parseEnv({ ...base, DOCKSIDE_EGRESS: 'off', DOCKSIDE_EGRESS_ALLOW: 'pypi.org' }).egress).toBeNull();
  });

  it('refuses bad values in one line naming the variable', () => {
    expect(() => parseEnv({ ...base, DOCKSIDE_EGRESS: 'yes' })).toThrow(
      new ConfigError('DOCKSIDE_EGRESS="yes" is invalid: expected on or off'),
    );
    for (const bad of ['10.0.0.5', 'localhost', 'http://pypi.org', 'pypi.org:443', '*.example.org', 'a b.org'])
      expect(() => parseEnv({ ...base, DOCKSIDE_EGRESS_ALLOW: bad })).toThrow(
        /^DOCKSIDE_EGRESS_ALLOW=".*" is invalid: expected host names separated by commas/,
      );
  });
});
