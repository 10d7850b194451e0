import assert from 'node:assert/strict';
import { XMLParser } from 'fast-xml-parser';
import { renderMetadata } from '../../../src/ocf/metadata';

describe('ocf/metadata: meta-data XML', () => {
  const xml = renderMetadata({
    name: 'toy',
    version: '1.2.3',
    shortdesc: 'a < b & "c"',
    longdesc: 'long',
    parameters: [{ name: 'p', type: 'integer', default: '5', required: true, shortdesc: 's', longdesc: 'l' }],
    actions: [
      { name: 'start', timeout: 20 },
      { name: 'monitor', timeout: 20, interval: 9, role: 'Promoted' },
    ],
    handlers: {},
  });

  it('carries the DOCTYPE of ra-api-1.dtd, which ocf-tester validates against', () => {
    assert.match(xml, /^<\?xml version="1.0"\?>\n<!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">\n/);
  });

  it('is well-formed, with text escaped', () => {
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    const ra = doc['resource-agent'];
    assert.equal(ra.name, 'toy');
    assert.equal(ra.shortdesc['#text'], 'a < b & "c"');
    assert.equal(ra.parameters.parameter.content.default, '5');
    assert.equal(ra.parameters.parameter.required, '1');
    assert.deepEqual(ra.actions.action[1], { name: 'monitor', timeout: '20s', interval: '9s', role: 'Promoted' });
  });
});
