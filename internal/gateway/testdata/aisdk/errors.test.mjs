// The errors the official openai SDK surfaces through Pinpoint: gateway
// refusals (unknown model, access rules, token rate, budget), provider
// failures (every target down, a wrong provider key, a provider's own 400)
// and a stream that breaks once it has started.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { env, skip, client, user, seen, checkExchanges, remember, apiError } from './common.mjs';

const E = env?.errors ?? {};
const chat = (c, model, extra = {}) => c.chat.completions.create({ model, messages: user('hi'), ...extra });

test('unknown model: NotFoundError ai.model_unknown', { skip }, async () => {
  await assert.rejects(chat(client(), 'no-such-model'), (err) => apiError(err, OpenAI.NotFoundError, 404, 'ai.model_unknown'));
  // An embedding model is not a chat model.
  await assert.rejects(chat(client(), 'openai-embed'), (err) => apiError(err, OpenAI.NotFoundError, 404, 'ai.model_unknown'));
});

test('a model the access rule does not list: PermissionDeniedError ai.model_not_allowed', { skip }, async () => {
  await assert.rejects(chat(client(), 'forbidden'), (err) => {
    apiError(err, OpenAI.PermissionDeniedError, 403, 'ai.model_not_allowed');
    assert.equal(err.type, 'permission_error');
    return true;
  });
  await assert.rejects(client().models.retrieve('forbidden'), (err) => apiError(err, OpenAI.PermissionDeniedError, 403, 'ai.model_not_allowed'));
});

test('tokens_per_minute: RateLimitError ai.tokens_rate_exceeded with retry-after', { skip }, async () => {
  await assert.rejects(chat(client('tiny'), 'openai-chat'), (err) => {
    apiError(err, OpenAI.RateLimitError, 429, 'ai.tokens_rate_exceeded');
    assert.match(err.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
    return true;
  });
});

test('daily budget: RateLimitError ai.budget_exceeded, and the SDK does not retry', { skip }, async () => {
  const before = seen.length;
  await assert.rejects(chat(client('broke', { maxRetries: 2 }), 'priced', { max_tokens: 1000 }), (err) => {
    apiError(err, OpenAI.RateLimitError, 429, 'ai.budget_exceeded');
    assert.equal(err.headers.get('x-should-retry'), 'false');
    remember('budget', err.requestID);
    return true;
  });
  assert.equal(seen.length - before, 1, 'the SDK sent the refused call once');
});

test('every target fails: InternalServerError 503 ai.provider_unavailable', { skip }, async () => {
  await assert.rejects(chat(client(), 'down'), (err) => {
    apiError(err, OpenAI.InternalServerError, 503, 'ai.provider_unavailable');
    remember('down', err.requestID);
    return true;
  });
});

test("a wrong provider key: 502 ai.provider_denied, told as the gateway's configuration", { skip }, async () => {
  await assert.rejects(chat(client(), 'denied'), (err) => {
    apiError(err, OpenAI.InternalServerError, 502, 'ai.provider_denied');
    assert.match(err.error.message, /gateway's provider configuration, not your key/);
    remember('denied', err.requestID);
    return true;
  });
});

test("a provider's 400 reaches the SDK as BadRequestError with the provider's message", { skip }, async () => {
  const want = E.badparams.Fail;
  await assert.rejects(chat(client(), 'badparams', { max_tokens: 1 }), (err) => {
    assert.ok(err instanceof OpenAI.BadRequestError, `got ${err?.constructor?.name}: ${err?.message}`);
    assert.equal(err.status, 400);
    assert.equal(err.error.message, want.Message);
    assert.equal(err.param, want.Param);
    assert.equal(err.code, want.Code);
    assert.equal(err.type, 'invalid_request_error');
    assert.equal(err.headers.get('pinpoint-layer'), 'upstream');
    assert.match(err.requestID ?? '', /\S/);
    return true;
  });
});

// drain iterates a stream and returns how many chunks arrived before it threw.
async function drain(stream) {
  let chunks = 0, text = '';
  try {
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta?.content ?? '';
    }
  } catch (err) {
    return { chunks, text, err };
  }
  return { chunks, text };
}

test('a stream cut by the provider after it started throws in the SDK', { skip }, async () => {
  const want = E.cut;
  const { data: stream, response } = await chat(client(), 'cut', { stream: true }).withResponse();
  remember('cut', response.headers.get('x-request-id'));
  const { chunks, text, err } = await drain(stream);
  assert.ok(err instanceof OpenAI.APIError, `want APIError, got ${err}`);
  assert.equal(err.code, 'ai.provider_unavailable');
  assert.ok(chunks > 0 && chunks <= want.CutAfter, `${chunks} chunks before the break`);
  assert.ok(want.Text.startsWith(text) && text.length < want.Text.length, `partial text ${JSON.stringify(text)}`);
});

test('an error event inside an Anthropic stream throws in the SDK', { skip }, async () => {
  const want = E.claudeBroken;
  const stream = await chat(client(), 'claude-broken', { stream: true, max_tokens: 64 });
  const { chunks, text, err } = await drain(stream);
  assert.ok(err instanceof OpenAI.APIError, `want APIError, got ${err}`);
  assert.equal(err.code, 'ai.provider_unavailable');
  assert.ok(chunks > 0, 'the stream had started');
  assert.ok(want.Text.startsWith(text) && text.length < want.Text.length, `partial text ${JSON.stringify(text)}`);
});

test('every answer has a request id and no provider key', { skip }, async () => {
  await checkExchanges(import.meta.filename ?? new URL(import.meta.url).pathname);
});
