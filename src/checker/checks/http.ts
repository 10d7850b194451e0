// service=http, https, http_proxy (ldirectord check_http, LWP): GET or HEAD to the real; up on a 2xx
// whose body matches receive when receive is set. TLS certificates are not verified (ldirectord
// turns that off too). Host header: virtualhost, else the real's address. http_proxy: the real is a
// proxy and request an absolute http:// URL. Redirects are followed as LWP does (at most 7), but
// only while they stay on this real: a health check must not wander off to another host.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { brief, fail, guarded, hostLiteral, receivePattern, up, type Endpoint, type Scope } from './socket';
import type { Check, CheckTarget } from './types';

/** Enough for any status page; a bigger body is matched on its first MiB. */
const MAX_BODY = 1024 * 1024;
const MAX_REDIRECTS = 7;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

interface Hop {
  tls: boolean;
  to: Endpoint;
  method: 'GET' | 'HEAD';
  /** Request target: a path, or an absolute URL through a proxy. */
  path: string;
  host: string;
  /** This hop's URL, to resolve a relative Location against. */
  url: URL;
}

interface Response {
  status: number;
  location: string | undefined;
  body: Buffer;
}

export const httpCheck: Check = (target, signal) =>
  guarded(signal, async (scope) => {
    const pattern = target.receive === '' ? undefined : receivePattern(target.receive);
    const proxy = target.service === 'http_proxy';
    let hop = firstHop(target);
    // Host names that mean "this real" in a Location header.
    const site = new Set([target.address, target.virtualhost?.replace(/:\d+$/, ''), bare(hop.url.hostname)].filter((h): h is string => !!h).map((h) => h.toLowerCase()));
    for (let hops = 0; ; hops++) {
      const res = await fetchOnce(scope, hop);
      if (REDIRECTS.has(res.status) && res.location !== undefined && hops < MAX_REDIRECTS) {
        hop = proxy ? proxyRedirect(hop, res) : siteRedirect(hop, res, site, target);
        continue;
      }
      if (res.status < 200 || res.status > 299) fail(`HTTP ${res.status}`);
      if (!pattern) return up(`HTTP ${res.status}`);
      scope.step('matching the body');
      // The raw bytes, as ldirectord matches LWP's $res->content.
      if (await pattern.matches(res.body, scope.signal)) return up(`HTTP ${res.status}, body matches`);
      fail(`HTTP ${res.status}, no match for /${brief(target.receive, 40)}/`);
    }
  });

function firstHop(t: CheckTarget): Hop {
  const tls = t.service === 'https';
  const scheme = tls ? 'https' : 'http';
  const path = t.request.startsWith('/') ? t.request : `/${t.request}`;
  const real: Endpoint = { address: t.address, port: t.port, family: t.family };
  if (t.service === 'http_proxy') {
    const url = parseUrl(t.request);
    if (!url || url.protocol !== 'http:') fail(`http_proxy needs an absolute http:// URL as request, not "${brief(t.request, 40)}"`);
    return { tls: false, to: real, method: t.httpmethod, path: url.href, host: url.host, url };
  }
  // A per-real "http://host:port/path" request arrives here split by the config parser: the
  // target's address and port are that host's, request its path.
  const url = parseUrl(`${scheme}://${hostLiteral(t.address)}:${t.port}${path}`);
  if (!url) fail(`request "${brief(t.request, 40)}" makes no valid URL`);
  return { tls, to: real, method: t.httpmethod, path, host: t.virtualhost ?? hostLiteral(t.address), url };
}

function siteRedirect(from: Hop, res: Response, site: Set<string>, t: CheckTarget): Hop {
  const next = parseUrl(res.location!, from.url);
  if (!next || (next.protocol !== 'http:' && next.protocol !== 'https:')) fail(`HTTP ${res.status} to an unusable Location`);
  if (!site.has(bare(next.hostname).toLowerCase())) fail(`HTTP ${res.status} redirect off this real, to ${brief(next.host, 40)}`);
  const tls = next.protocol === 'https:';
  // Same real, whatever name the Location uses; its port, or the scheme's.
  const to = { address: from.to.address, port: Number(next.port) || (tls ? 443 : 80), family: t.family };
  const real = parseUrl(`${next.protocol}//${hostLiteral(to.address)}:${to.port}${next.pathname}${next.search}`) ?? next;
  return { tls, to, method: res.status === 303 ? 'GET' : from.method, path: next.pathname + next.search, host: from.host, url: real };
}

function proxyRedirect(from: Hop, res: Response): Hop {
  const next = parseUrl(res.location!, from.url);
  if (!next || next.protocol !== 'http:') fail(`HTTP ${res.status} to a Location the proxy check cannot follow`);
  return { ...from, method: res.status === 303 ? 'GET' : from.method, path: next.href, host: next.host, url: next };
}

function parseUrl(text: string, base?: URL): URL | undefined {
  try {
    return new URL(text, base);
  } catch {
    return undefined;
  }
}

/** A URL's hostname without the brackets of an IPv6 literal. */
function bare(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

function fetchOnce(scope: Scope, hop: Hop): Promise<Response> {
  scope.step('connecting');
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = {
      host: hop.to.address,
      port: hop.to.port,
      ...(hop.to.family ? { family: hop.to.family } : {}),
      method: hop.method,
      path: hop.path,
      headers: { Host: hop.host, 'User-Agent': 'lvsd', Accept: '*/*' },
      agent: false,
    };
    if (hop.tls) {
      options.rejectUnauthorized = false;
      const sni = hop.host.replace(/:\d+$/, '');
      if (!net.isIP(bare(sni))) options.servername = sni;
    }
    const req = (hop.tls ? https : http).request(options, (res) => {
      scope.own(res);
      scope.step('reading the response body');
      const chunks: Buffer[] = [];
      let size = 0;
      let settled = false;
      const done = () => {
        settled = true;
        resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks) });
      };
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_BODY) {
          done();
          res.destroy();
        }
      });
      res.on('end', done);
      res.on('error', reject);
      res.on('close', () => settled || res.complete || reject(new Error('connection closed in the middle of the response')));
    });
    scope.own(req);
    req.on('socket', (socket) => {
      socket.once('connect', () => scope.step(hop.tls ? 'in the TLS handshake' : 'waiting for the response'));
      socket.once('secureConnect', () => scope.step('waiting for the response'));
    });
    req.on('error', reject);
    req.end();
  });
}
