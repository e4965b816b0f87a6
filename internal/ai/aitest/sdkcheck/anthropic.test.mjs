// Drives the aitest Anthropic fake with the official @anthropic-ai/sdk,
// unchanged. Run by TestOfficialSDKs (sdk_test.go); every assertion
// compares against a value the Go side scripted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';

const env = JSON.parse(process.env.AITEST ?? 'null');
const skip = env ? false : 'AITEST is not set: run go test ./internal/ai/aitest';
const fake = env?.anthropic;
const S = fake?.scripts ?? {};
const client = () => new Anthropic({ apiKey: fake.key, baseURL: fake.url, maxRetries: 0 });
const ask = (model, extra = {}) => ({ model, max_tokens: 256, messages: [{ role: 'user', content: 'Hello' }], ...extra });

test('messages.create: text, stop_reason, usage with cache tokens, request id', { skip }, async () => {
  const want = S['claude-sdk-basic'];
  const msg = await client().messages.create(ask('claude-sdk-basic', { system: 'Answer in French.' }));
  assert.equal(msg.type, 'message');
  assert.equal(msg.role, 'assistant');
  assert.equal(msg.model, 'claude-sdk-basic');
  assert.match(msg.id, /^msg_/);
  assert.deepEqual(msg.content, [{ type: 'text', text: want.Text }]);
  assert.equal(msg.stop_reason, 'end_turn');
  assert.equal(msg.stop_sequence, null);
  assert.equal(msg.usage.input_tokens, want.Usage.Input);
  assert.equal(msg.usage.output_tokens, want.Usage.Output);
  assert.equal(msg.usage.cache_read_input_tokens, want.Usage.Cached);
  assert.equal(msg.usage.cache_creation_input_tokens, want.Usage.CacheWrite);
  assert.match(msg._request_id, /^req_/);
});

test('messages.stream: text deltas and the final message', { skip }, async () => {
  const want = S['claude-sdk-stream'];
  const stream = client().messages.stream(ask('claude-sdk-stream'));
  const deltas = [];
  const events = [];
  stream.on('text', (d) => deltas.push(d));
  stream.on('streamEvent', (e) => events.push(e.type));
  const msg = await stream.finalMessage();
  assert.equal(deltas.length, want.Chunks);
  assert.equal(deltas.join(''), want.Text);
  assert.equal(msg.content[0].text, want.Text);
  assert.equal(msg.stop_reason, 'end_turn');
  assert.equal(msg.usage.input_tokens, want.Usage.Input);
  assert.equal(msg.usage.output_tokens, want.Usage.Output);
  assert.equal(msg.usage.cache_read_input_tokens, want.Usage.Cached);
  // The SDK drops ping events itself; the Go wire test checks they are sent.
  assert.deepEqual([events[0], events[1], events[2]], ['message_start', 'content_block_start', 'content_block_delta']);
  assert.deepEqual(events.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
});

test('messages.stream with tool use: input_json_delta assembled into input', { skip }, async () => {
  const want = S['claude-sdk-tools'];
  const stream = client().messages.stream(ask('claude-sdk-tools', {
    tools: want.ToolCalls.map((t) => ({ name: t.Name, input_schema: { type: 'object' } })),
  }));
  let jsonDeltas = 0;
  stream.on('streamEvent', (e) => { if (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta') jsonDeltas++; });
  const msg = await stream.finalMessage();
  assert.equal(msg.stop_reason, 'tool_use');
  assert.equal(msg.content[0].type, 'text');
  assert.equal(msg.content[0].text, want.Text);
  const uses = msg.content.filter((b) => b.type === 'tool_use');
  assert.equal(uses.length, want.ToolCalls.length);
  want.ToolCalls.forEach((tc, i) => {
    assert.equal(uses[i].name, tc.Name);
    assert.deepEqual(uses[i].input, JSON.parse(tc.Arguments));
    assert.match(uses[i].id, /^toolu_/);
  });
  assert.ok(jsonDeltas >= 2 * want.ToolCalls.length, `input came in fragments (${jsonDeltas})`);
});

test('messages.create with tool use', { skip }, async () => {
  const want = S['claude-sdk-tools'];
  const msg = await client().messages.create(ask('claude-sdk-tools'));
  assert.equal(msg.stop_reason, 'tool_use');
  assert.deepEqual(msg.content.filter((b) => b.type === 'tool_use').map((b) => [b.name, b.input]),
    want.ToolCalls.map((t) => [t.Name, JSON.parse(t.Arguments)]));
});

test('stop reasons: max_tokens and stop_sequence', { skip }, async () => {
  const len = await client().messages.create(ask('claude-sdk-length'));
  assert.equal(len.stop_reason, 'max_tokens');
  const seq = await client().messages.create(ask('claude-sdk-stopseq', { stop_sequences: [S['claude-sdk-stopseq'].StopSequence] }));
  assert.equal(seq.stop_reason, 'stop_sequence');
  assert.equal(seq.stop_sequence, S['claude-sdk-stopseq'].StopSequence);
  const streamed = await client().messages.stream(ask('claude-sdk-stopseq')).finalMessage();
  assert.equal(streamed.stop_reason, 'stop_sequence');
  assert.equal(streamed.stop_sequence, S['claude-sdk-stopseq'].StopSequence);
});

test('errors: 529 overloaded, 429 rate limit, bad key, missing max_tokens', { skip }, async () => {
  await assert.rejects(client().messages.create(ask('claude-sdk-overloaded')), (err) => {
    assert.ok(err instanceof Anthropic.APIError);
    assert.equal(err.status, 529);
    assert.equal(err.type, 'overloaded_error');
    assert.equal(err.error.error.message, S['claude-sdk-overloaded'].Fail.Message);
    assert.match(err.requestID, /^req_/);
    assert.equal(err.error.request_id, err.requestID);
    return true;
  });
  await assert.rejects(client().messages.create(ask('claude-sdk-ratelimit')), (err) => {
    assert.ok(err instanceof Anthropic.RateLimitError);
    assert.equal(err.type, 'rate_limit_error');
    assert.equal(err.headers.get('retry-after'), String(Math.ceil(S['claude-sdk-ratelimit'].Fail.RetryAfter / 1e9)));
    return true;
  });
  const wrong = new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: fake.url, maxRetries: 0 });
  await assert.rejects(wrong.messages.create(ask('claude-sdk-basic')), (err) => {
    assert.ok(err instanceof Anthropic.AuthenticationError);
    assert.equal(err.type, 'authentication_error');
    return true;
  });
  await assert.rejects(client().messages.create({ model: 'claude-sdk-basic', messages: [{ role: 'user', content: 'hi' }] }), (err) => {
    assert.ok(err instanceof Anthropic.BadRequestError);
    assert.equal(err.error.error.message, 'max_tokens: Field required');
    return true;
  });
  await assert.rejects(client().messages.create(ask('no-such-model')), (err) => {
    assert.ok(err instanceof Anthropic.NotFoundError);
    assert.equal(err.type, 'not_found_error');
    return true;
  });
});

test('an error event inside the stream fails the stream', { skip }, async () => {
  const stream = client().messages.stream(ask('claude-sdk-stream-error'));
  await assert.rejects(stream.finalMessage(), (err) => {
    assert.ok(err instanceof Anthropic.APIError);
    assert.match(err.message, new RegExp(S['claude-sdk-stream-error'].Fail.Message));
    return true;
  });
});

test('models.list', { skip }, async () => {
  const ids = [];
  for await (const m of client().models.list()) { assert.equal(m.type, 'model'); ids.push(m.id); }
  assert.deepEqual(ids, fake.models);
});
