// Shared by the node tests of this folder, which TestOpenAISDKThroughPinpoint
// (internal/gateway/ai_sdk_test.go) runs against a real Pinpoint gateway in
// front of the aitest provider fakes. The Go side passes the gateway's URL,
// the callers' keys, the scripted answers and what to expect in $AISDK.
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

export const env = JSON.parse(process.env.AISDK ?? 'null');
export const skip = env ? false : 'AISDK is not set: run go test -run TestOpenAISDKThroughPinpoint ./internal/gateway';

// seen holds every HTTP exchange the SDK had with the gateway, in order,
// with a copy of the answer's body (read in the background, so streams
// reach the SDK untouched).
export const seen = [];

const recordingFetch = async (url, init) => {
  const res = await fetch(url, init);
  const copy = res.clone();
  seen.push({
    url: String(url),
    status: res.status,
    headers: res.headers,
    body: copy.text().catch((err) => `<body unreadable: ${err}>`),
  });
  return res;
};

// client is the official SDK pointed at Pinpoint, as an application would
// configure it: the gateway's /v1 as baseURL and a Pinpoint API key.
export const client = (caller = 'alice', opts = {}) =>
  new OpenAI({ baseURL: env.url + '/v1', apiKey: env.callers[caller], maxRetries: 0, fetch: recordingFetch, ...opts });

export const user = (text) => [{ role: 'user', content: text }];

// named are request ids the Go side inspects after the run, by scenario.
const named = {};
export const remember = (name, id) => {
  assert.match(id ?? '', /\S/, `no request id for ${name}`);
  named[name] = id;
};

// checkExchanges asserts what every answer must keep: a request id header,
// no provider key anywhere in it, and, for a refusal, OpenAI's error shape
// carrying the same request id. Then it writes the ids for the Go side.
export async function checkExchanges(file) {
  assert.ok(seen.length > 0, 'no exchange recorded');
  const ids = [];
  for (const ex of seen) {
    const body = await ex.body;
    const id = ex.headers.get('x-request-id');
    assert.match(id ?? '', /\S/, `${ex.url}: no x-request-id (status ${ex.status})`);
    ids.push(id);
    const head = [...ex.headers].map(([k, v]) => `${k}: ${v}`).join('\n');
    for (const secret of env.secrets) {
      assert.ok(!body.includes(secret), `${ex.url} (${id}): a provider key is in the answer body`);
      assert.ok(!head.includes(secret), `${ex.url} (${id}): a provider key is in the answer headers`);
    }
    if (ex.status >= 400) {
      const doc = JSON.parse(body);
      assert.equal(doc.request_id, id, `${ex.url}: refusal body request_id`);
      assert.equal(typeof doc.error?.message, 'string', `${ex.url}: error.message`);
      assert.ok('type' in doc.error && 'param' in doc.error && 'code' in doc.error, `${ex.url}: OpenAI error shape: ${body}`);
    }
  }
  writeFileSync(`${env.out}/${basename(file)}.json`, JSON.stringify({ ids, named }));
}

// apiError checks an SDK error against a gateway refusal: its class, status,
// reason code, and the request id it carries.
export function apiError(err, cls, status, code) {
  assert.ok(err instanceof cls, `want ${cls.name}, got ${err?.constructor?.name}: ${err?.message}`);
  assert.equal(err.status, status);
  assert.equal(err.code, code);
  assert.match(err.requestID ?? '', /\S/);
  return true;
}
