// Drives the aitest OpenAI fake with the official openai SDK, unchanged.
// Run by TestOfficialSDKs (sdk_test.go), which starts the fakes, scripts
// them and passes their URLs, keys and scripts in $AITEST. Every assertion
// compares against a value the Go side scripted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { AzureOpenAI } from 'openai';

const env = JSON.parse(process.env.AITEST ?? 'null');
const skip = env ? false : 'AITEST is not set: run go test ./internal/ai/aitest';
const fake = env?.openai;
const S = fake?.scripts ?? {};
const client = () => new OpenAI({ apiKey: fake.key, baseURL: fake.url + '/v1', maxRetries: 0 });
const user = (text) => [{ role: 'user', content: text }];

test('chat: content, finish_reason, usage, request id', { skip }, async () => {
  const want = S['sdk-chat'];
  const res = await client().chat.completions.create({ model: 'sdk-chat', messages: user('Capital of France?') });
  assert.equal(res.object, 'chat.completion');
  assert.equal(res.model, 'sdk-chat');
  assert.equal(res.choices.length, 1);
  assert.equal(res.choices[0].message.role, 'assistant');
  assert.equal(res.choices[0].message.content, want.Text);
  assert.equal(res.choices[0].finish_reason, 'stop');
  assert.equal(res.usage.prompt_tokens, want.Usage.Input);
  assert.equal(res.usage.completion_tokens, want.Usage.Output);
  assert.equal(res.usage.total_tokens, want.Usage.Input + want.Usage.Output);
  assert.equal(res.usage.prompt_tokens_details.cached_tokens, want.Usage.Cached);
  assert.match(res._request_id, /^req_[0-9a-f]{32}$/);
  assert.match(res.id, /^chatcmpl-/);
});

test('chat: image content parts and json_schema response_format', { skip }, async () => {
  const want = S['sdk-json'];
  const res = await client().chat.completions.parse({
    model: 'sdk-json',
    messages: [{
      role: 'user',
      content: [
        { type: 'text', text: 'What is in this image? Answer as JSON.' },
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
      ],
    }],
    response_format: {
      type: 'json_schema',
      json_schema: { name: 'answer', strict: true, schema: { type: 'object', properties: { answer: { type: 'integer' } }, required: ['answer'], additionalProperties: false } },
    },
  });
  assert.equal(res.choices[0].message.content, want.Text);
  assert.deepEqual(res.choices[0].message.parsed, JSON.parse(want.Text));
});

test('stream: role first, content pieces, final usage chunk, [DONE]', { skip }, async () => {
  const want = S['sdk-stream'];
  const stream = await client().chat.completions.create({
    model: 'sdk-stream', messages: user('Count to five.'), stream: true, stream_options: { include_usage: true },
  });
  const pieces = [];
  let role, finish, usage, usageChunks = 0, afterUsage = 0;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    if (usage) afterUsage++;
    if (chunk.usage) { usage = chunk.usage; usageChunks++; assert.deepEqual(chunk.choices, []); continue; }
    const c = chunk.choices[0];
    if (c.delta.role) { assert.equal(pieces.length, 0, 'role comes first'); role = c.delta.role; }
    if (c.delta.content) pieces.push(c.delta.content);
    if (c.finish_reason) finish = c.finish_reason;
  }
  assert.equal(role, 'assistant');
  assert.equal(pieces.length, want.Chunks);
  assert.equal(pieces.join(''), want.Text);
  assert.equal(finish, 'stop');
  assert.equal(usageChunks, 1);
  assert.equal(afterUsage, 0, 'usage chunk is last');
  assert.equal(usage.prompt_tokens, want.Usage.Input);
  assert.equal(usage.completion_tokens, want.Usage.Output);
});

test('stream without include_usage has no usage', { skip }, async () => {
  const want = S['sdk-stream'];
  const stream = await client().chat.completions.create({ model: 'sdk-stream', messages: user('Again.'), stream: true });
  let text = '';
  for await (const chunk of stream) {
    assert.equal(chunk.usage, undefined);
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  assert.equal(text, want.Text);
});

test('tools: tool_calls assembled from the stream by the SDK', { skip }, async () => {
  const want = S['sdk-tools'];
  const tools = want.ToolCalls.map((tc) => ({ type: 'function', function: { name: tc.Name, parameters: { type: 'object' } } }));
  const runner = client().chat.completions.stream({ model: 'sdk-tools', messages: user('Weather and time in Paris?'), tools });
  let argDeltas = 0;
  runner.on('chunk', (chunk) => {
    for (const tc of chunk.choices[0]?.delta?.tool_calls ?? []) if (tc.function?.arguments) argDeltas++;
  });
  const final = await runner.finalChatCompletion();
  const msg = final.choices[0].message;
  assert.equal(final.choices[0].finish_reason, 'tool_calls');
  assert.equal(msg.tool_calls.length, want.ToolCalls.length);
  want.ToolCalls.forEach((tc, i) => {
    assert.equal(msg.tool_calls[i].type, 'function');
    assert.equal(msg.tool_calls[i].function.name, tc.Name);
    assert.equal(msg.tool_calls[i].function.arguments, tc.Arguments);
    assert.match(msg.tool_calls[i].id, /^call_/);
  });
  assert.ok(argDeltas >= 2 * want.ToolCalls.length, `arguments came in fragments (${argDeltas})`);
});

test('tools: non-streamed tool_calls', { skip }, async () => {
  const want = S['sdk-tools'];
  const res = await client().chat.completions.create({ model: 'sdk-tools', messages: user('Weather?') });
  assert.equal(res.choices[0].finish_reason, 'tool_calls');
  assert.equal(res.choices[0].message.content, null);
  assert.deepEqual(res.choices[0].message.tool_calls.map((t) => [t.function.name, t.function.arguments]),
    want.ToolCalls.map((t) => [t.Name, t.Arguments]));
});

test('embeddings: base64 (the SDK default) and float give the scripted vectors', { skip }, async () => {
  const inputs = Object.keys(fake.vectors);
  const b64 = await client().embeddings.create({ model: 'text-embedding-3-small', input: inputs });
  const flt = await client().embeddings.create({ model: 'text-embedding-3-small', input: inputs, encoding_format: 'float' });
  for (const res of [b64, flt]) {
    assert.equal(res.object, 'list');
    assert.equal(res.data.length, inputs.length);
    res.data.forEach((d, i) => {
      assert.equal(d.index, i);
      assert.deepEqual(Array.from(d.embedding), fake.vectors[inputs[i]]);
    });
    assert.equal(res.usage.prompt_tokens, S['text-embedding-3-small'].Usage.Input);
  }
});

test('models.list', { skip }, async () => {
  const ids = [];
  for await (const m of client().models.list()) { assert.equal(m.object, 'model'); ids.push(m.id); }
  assert.deepEqual(ids, fake.models);
});

test('errors map to the SDK error classes', { skip }, async () => {
  const rl = S['sdk-ratelimit'].Fail;
  await assert.rejects(client().chat.completions.create({ model: 'sdk-ratelimit', messages: user('hi') }), (err) => {
    assert.ok(err instanceof OpenAI.RateLimitError);
    assert.equal(err.status, 429);
    assert.equal(err.message, `429 ${rl.Message}`);
    assert.equal(err.code, 'rate_limit_exceeded');
    assert.equal(err.type, 'requests');
    assert.equal(err.headers.get('retry-after'), String(Math.ceil(rl.RetryAfter / 1e9)));
    assert.match(err.requestID, /^req_/);
    return true;
  });
  const bad = S['sdk-badrequest'].Fail;
  await assert.rejects(client().chat.completions.create({ model: 'sdk-badrequest', messages: user('hi') }), (err) => {
    assert.ok(err instanceof OpenAI.BadRequestError);
    assert.equal(err.param, bad.Param);
    assert.equal(err.code, bad.Code);
    assert.equal(err.error.message, bad.Message);
    return true;
  });
  await assert.rejects(client().chat.completions.create({ model: 'sdk-unavailable', messages: user('hi') }), (err) => {
    assert.ok(err instanceof OpenAI.InternalServerError);
    assert.equal(err.status, S['sdk-unavailable'].Fail.Status);
    assert.equal(err.type, 'server_error');
    return true;
  });
  await assert.rejects(client().chat.completions.create({ model: 'no-such-model', messages: user('hi') }), (err) => {
    assert.ok(err instanceof OpenAI.NotFoundError);
    assert.equal(err.code, 'model_not_found');
    return true;
  });
  const wrongKey = new OpenAI({ apiKey: 'sk-wrong-key-123456', baseURL: fake.url + '/v1', maxRetries: 0 });
  await assert.rejects(wrongKey.models.list(), (err) => {
    assert.ok(err instanceof OpenAI.AuthenticationError);
    assert.equal(err.code, 'invalid_api_key');
    return true;
  });
});

test('the SDK retries a scripted 503 and then gets the answer', { skip }, async () => {
  const c = new OpenAI({ apiKey: fake.key, baseURL: fake.url + '/v1', maxRetries: 1 });
  const res = await c.chat.completions.create({ model: 'sdk-retry', messages: user('hi') });
  assert.equal(res.choices[0].message.content, S['sdk-retry'].Text);
});

test('an error event inside the stream surfaces as APIError', { skip }, async () => {
  const want = S['sdk-stream-error'];
  const stream = await client().chat.completions.create({ model: 'sdk-stream-error', messages: user('hi'), stream: true });
  let chunks = 0;
  await assert.rejects((async () => { for await (const _ of stream) chunks++; })(), (err) => {
    assert.ok(err instanceof OpenAI.APIError);
    assert.equal(err.error.message, want.Fail.Message);
    return true;
  });
  assert.equal(chunks, want.FailAfter);
});

test('a cut stream fails in the SDK instead of ending quietly', { skip }, async () => {
  const want = S['sdk-cut'];
  const stream = await client().chat.completions.create({ model: 'sdk-cut', messages: user('hi'), stream: true });
  let chunks = 0;
  await assert.rejects((async () => { for await (const _ of stream) chunks++; })());
  assert.ok(chunks <= want.CutAfter, `got ${chunks} chunks`);
});

test('Azure OpenAI client: deployment path, api-key, api-version', { skip }, async () => {
  const az = new AzureOpenAI({ endpoint: fake.url, apiKey: fake.key, apiVersion: '2024-10-21', deployment: 'sdk-azure', maxRetries: 0 });
  const res = await az.chat.completions.create({ model: 'ignored-by-azure', messages: user('hi') });
  assert.equal(res.choices[0].message.content, S['sdk-azure'].Text);
  const wrong = new AzureOpenAI({ endpoint: fake.url, apiKey: 'wrong', apiVersion: '2024-10-21', deployment: 'sdk-azure', maxRetries: 0 });
  await assert.rejects(wrong.chat.completions.create({ model: 'x', messages: user('hi') }), (err) => {
    assert.ok(err instanceof OpenAI.AuthenticationError);
    return true;
  });
});
