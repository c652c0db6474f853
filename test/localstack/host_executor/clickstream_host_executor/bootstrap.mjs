// One Lambda execution environment as a host Node.js process, started by
// executor.py: loads the function's handler from LAMBDA_TASK_ROOT, reports ready to
// LocalStack, serves POST /invoke on 127.0.0.1, and per invocation posts the logs it
// printed, then the response or the error (LocalStack's runtime-init protocol).
// Under LoggingFormat JSON, console output is written as the Node.js runtime writes
// it: {"timestamp","level","requestId","message"}, a single argument kept as is.
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';

const env = process.env;
const runtimeEndpoint = env.LOCALSTACK_RUNTIME_ENDPOINT;
const runtimeId = env.LOCALSTACK_RUNTIME_ID;
const port = Number(env.CLICKSTREAM_HOST_EXECUTOR_PORT);
const parentPid = Number(env.CLICKSTREAM_HOST_EXECUTOR_PARENT_PID);
const timeoutMs = Number(env.AWS_LAMBDA_FUNCTION_TIMEOUT ?? 3) * 1000;
const jsonLogs = env.AWS_LAMBDA_LOG_FORMAT === 'JSON';

async function post(path, body) {
  const response = await fetch(`${runtimeEndpoint}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  if (!response.ok) process.stderr.write(`host executor: POST ${path} got ${response.status}\n`);
}

function errorBody(error, errorType) {
  const e = error instanceof Error ? error : new Error(String(error));
  return JSON.stringify({ errorType: errorType ?? e.name ?? 'Error', errorMessage: e.message, stackTrace: (e.stack ?? '').split('\n').slice(1).map((l) => l.trim()) });
}

// Everything written while an invocation runs is also kept, to be posted as its logs.
let captured;
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream);
  stream.write = (chunk, ...rest) => {
    if (captured !== undefined) captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return write(chunk, ...rest);
  };
}
let requestId;
const levels = { log: 'INFO', info: 'INFO', warn: 'WARN', error: 'ERROR', debug: 'DEBUG', trace: 'TRACE' };
for (const [method, level] of Object.entries(levels)) {
  const out = level === 'WARN' || level === 'ERROR' ? process.stderr : process.stdout;
  console[method] = (...args) => {
    const timestamp = new Date().toISOString();
    if (jsonLogs) {
      const message = args.length === 1 && !(args[0] instanceof Error) ? args[0] : format(...args);
      out.write(`${JSON.stringify({ timestamp, level, requestId, message })}\n`);
    } else {
      out.write(`${timestamp}\t${requestId ?? 'undefined'}\t${level}\t${format(...args)}\n`);
    }
  };
}

// LocalStack gone (even killed): nothing may outlive it.
setInterval(() => {
  try {
    process.kill(parentPid, 0);
  } catch {
    process.exit(0);
  }
}, 1000).unref();

const [moduleName, exportName] = (() => {
  const spec = env._HANDLER ?? 'index.handler';
  const dot = spec.lastIndexOf('.');
  return [spec.slice(0, dot), spec.slice(dot + 1)];
})();

let handler;
try {
  const file = ['.mjs', '.js', '.cjs'].map((ext) => join(env.LAMBDA_TASK_ROOT, moduleName + ext)).find(existsSync);
  if (!file) throw new Error(`Cannot find module '${moduleName}' in ${env.LAMBDA_TASK_ROOT}`);
  const module = await import(pathToFileURL(file).href);
  handler = module[exportName] ?? module.default?.[exportName];
  if (typeof handler !== 'function') throw new Error(`${moduleName}.${exportName} is undefined or not exported`);
} catch (error) {
  console.error(error);
  await post(`/status/${runtimeId}/error`, errorBody(error, 'Runtime.ImportModuleError'));
  process.exit(1);
}

function callHandler(event, context) {
  // A handler of three parameters that returns no promise answers through its callback.
  return new Promise((resolve, reject) => {
    const result = handler(event, context, (error, value) => (error ? reject(error) : resolve(value)));
    if (result && typeof result.then === 'function') result.then(resolve, reject);
    else if (handler.length < 3) resolve(result);
  });
}

async function invoke(request) {
  const id = request['invoke-id'];
  const started = Date.now();
  captured = [];
  requestId = id;
  process.stdout.write(`START RequestId: ${id} Version: ${env.AWS_LAMBDA_FUNCTION_VERSION ?? '$LATEST'}\n`);
  const context = {
    awsRequestId: id,
    invokedFunctionArn: request['invoked-function-arn'],
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, started + timeoutMs - Date.now()),
  };
  let outcome;
  let timer;
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ error: new Error(`Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`), errorType: 'Sandbox.Timedout', fatal: true }), timeoutMs);
  });
  try {
    outcome = await Promise.race([callHandler(JSON.parse(request.payload), context).then((value) => ({ value })), timedOut]);
  } catch (error) {
    console.error(error);
    outcome = { error };
  } finally {
    clearTimeout(timer);
  }
  process.stdout.write(`END RequestId: ${id}\nREPORT RequestId: ${id}\tDuration: ${Date.now() - started} ms\n`);
  const logs = captured.join('');
  captured = undefined;
  requestId = undefined;
  await post(`/invocations/${id}/logs`, JSON.stringify({ logs }));
  if (outcome.error) await post(`/invocations/${id}/error`, errorBody(outcome.error, outcome.errorType));
  else await post(`/invocations/${id}/response`, JSON.stringify(outcome.value ?? null));
  // Lambda discards an environment whose invocation timed out; its handler may still be running.
  if (outcome.fatal) process.exit(1);
}

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/invoke') {
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let request;
    try {
      request = JSON.parse(Buffer.concat(chunks).toString());
    } catch {
      res.writeHead(400).end();
      return;
    }
    res.writeHead(202).end();
    invoke(request).catch((error) => {
      process.stderr.write(`host executor: invocation ${request['invoke-id']} could not be reported: ${error?.stack ?? error}\n`);
      process.exit(1);
    });
  });
});
server.listen(port, '127.0.0.1', () => {
  post(`/status/${runtimeId}/ready`, '{}').catch((error) => {
    process.stderr.write(`host executor: could not report ready: ${error}\n`);
    process.exit(1);
  });
});
