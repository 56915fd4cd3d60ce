// Preloaded into the antigravity-claude-proxy with NODE_OPTIONS=--require <this file>.
// The proxy listens on every interface and has no option to choose one; this
// makes every TCP server of the process listen on MOANA_LISTEN_HOST (default
// 127.0.0.1) instead, so the proxy is reachable from this machine only.
'use strict';
const net = require('net');
const host = process.env.MOANA_LISTEN_HOST || '127.0.0.1';
const listen = net.Server.prototype.listen;

net.Server.prototype.listen = function (...args) {
  const first = args[0];
  if (first === undefined || typeof first === 'function') {
    args.unshift({ port: 0, host });
  } else if (typeof first === 'object' && first !== null && !Array.isArray(first)) {
    if (first.path === undefined && first.fd === undefined && first.handle === undefined) {
      args[0] = Object.assign({}, first, { host });
    }
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof args[1] === 'string') {
      args[1] = host;
    } else {
      args.splice(1, 0, host);
    }
  }
  return listen.apply(this, args);
};
