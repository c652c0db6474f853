// Preloaded (NODE_OPTIONS --import) into the Node processes LocalStack starts, i.e.
// kinesis-mock, which binds every interface and has no setting for it: a server asked
// to listen on all interfaces listens on 127.0.0.1 instead.
import net from 'node:net';

const ANY = new Set([undefined, null, '', '0.0.0.0', '::']);
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  const [first, second] = args;
  if (first !== null && typeof first === 'object' && !('path' in first) && !('fd' in first) && !('handle' in first) && !('_handle' in first)) {
    if (ANY.has(first.host)) args[0] = { ...first, host: '127.0.0.1' };
  } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
    if (typeof second === 'string' || second === null) {
      if (ANY.has(second)) args[1] = '127.0.0.1';
    } else {
      args.splice(1, 0, '127.0.0.1');
    }
  }
  return listen.apply(this, args);
};
