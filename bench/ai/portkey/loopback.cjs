// Preloaded into the Portkey gateway by bench/ai.sh (node --require): its
// start-server.js listens on every interface and has no flag to choose one,
// and the benchmark talks to 127.0.0.1 only. This binds any listen() that
// names no host to 127.0.0.1.
'use strict';
const net = require('node:net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && (args.length === 1 || args[1] === undefined || typeof args[1] === 'function')) {
    args.splice(1, args[1] === undefined ? 1 : 0, '127.0.0.1');
  } else if (args[0] !== null && typeof args[0] === 'object' && args[0].port !== undefined && !args[0].host) {
    args[0] = { ...args[0], host: '127.0.0.1' };
  }
  return listen.apply(this, args);
};
