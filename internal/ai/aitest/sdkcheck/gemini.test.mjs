// Drives the aitest Gemini fake with the official @google/genai SDK,
// unchanged. Run by TestOfficialSDKs (sdk_test.go); every assertion
// compares against a value the Go side scripted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleGenAI, ApiError, FinishReason } from '@google/genai';

const env = JSON.parse(process.env.AITEST ?? 'null');
const skip = env ? false : 'AITEST is not set: run go test ./internal/ai/aitest';
const fake = env?.gemini;
const S = fake?.scripts ?? {};
const client = (apiKey = fake.key) => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: fake.url } });

test('generateContent: text, finishReason, usageMetadata with cached tokens', { skip }, async () => {
  const want = S['gemini-sdk-basic'];
  const res = await client().models.generateContent({ model: 'gemini-sdk-basic', contents: 'Why is the sky blue?' });
  assert.equal(res.text, want.Text);
  assert.equal(res.candidates[0].finishReason, FinishReason.STOP);
  assert.equal(res.candidates[0].content.role, 'model');
  assert.equal(res.usageMetadata.promptTokenCount, want.Usage.Input);
  assert.equal(res.usageMetadata.candidatesTokenCount, want.Usage.Output);
  assert.equal(res.usageMetadata.cachedContentTokenCount, want.Usage.Cached);
  assert.equal(res.usageMetadata.totalTokenCount, want.Usage.Input + want.Usage.Output);
  assert.equal(res.modelVersion, 'gemini-sdk-basic');
  assert.ok(res.responseId);
});

test('generateContentStream: pieces, final finishReason and usage', { skip }, async () => {
  const want = S['gemini-sdk-stream'];
  const stream = await client().models.generateContentStream({ model: 'gemini-sdk-stream', contents: 'Tell me a story.' });
  const pieces = [];
  let last;
  for await (const chunk of stream) {
    pieces.push(chunk.text);
    last = chunk;
  }
  assert.equal(pieces.length, want.Chunks);
  assert.equal(pieces.join(''), want.Text);
  assert.equal(last.candidates[0].finishReason, FinishReason.STOP);
  assert.equal(last.usageMetadata.candidatesTokenCount, want.Usage.Output);
  assert.equal(last.usageMetadata.totalTokenCount, want.Usage.Input + want.Usage.Output);
});

test('function calls, plain and streamed', { skip }, async () => {
  const want = S['gemini-sdk-tools'];
  const config = { tools: [{ functionDeclarations: want.ToolCalls.map((t) => ({ name: t.Name, parameters: { type: 'OBJECT' } })) }] };
  const expected = want.ToolCalls.map((t) => ({ name: t.Name, args: JSON.parse(t.Arguments) }));
  const res = await client().models.generateContent({ model: 'gemini-sdk-tools', contents: 'Weather in Paris?', config });
  assert.deepEqual(res.functionCalls, expected);
  let calls = [];
  for await (const chunk of await client().models.generateContentStream({ model: 'gemini-sdk-tools', contents: 'Weather?', config })) {
    calls = calls.concat(chunk.functionCalls ?? []);
  }
  assert.deepEqual(calls, expected);
});

test('finishReason MAX_TOKENS', { skip }, async () => {
  const res = await client().models.generateContent({ model: 'gemini-sdk-length', contents: 'Go on.' });
  assert.equal(res.candidates[0].finishReason, FinishReason.MAX_TOKENS);
});

test('a blocked prompt: promptFeedback.blockReason and no candidates', { skip }, async () => {
  const want = S['gemini-sdk-blocked'];
  const res = await client().models.generateContent({ model: 'gemini-sdk-blocked', contents: 'Something forbidden.' });
  assert.equal(res.promptFeedback.blockReason, want.Blocked);
  assert.equal(res.candidates, undefined);
  assert.equal(res.text, undefined);
  assert.equal(res.usageMetadata.promptTokenCount, want.Usage.Input);
  const chunks = [];
  for await (const c of await client().models.generateContentStream({ model: 'gemini-sdk-blocked', contents: 'Again.' })) chunks.push(c);
  assert.equal(chunks.length, 1);
  assert.equal(chunks[0].promptFeedback.blockReason, want.Blocked);
});

test('embedContent gives the scripted vectors', { skip }, async () => {
  const inputs = Object.keys(fake.vectors);
  const res = await client().models.embedContent({ model: 'gemini-embedding-001', contents: inputs });
  assert.equal(res.embeddings.length, inputs.length);
  res.embeddings.forEach((e, i) => assert.deepEqual(e.values, fake.vectors[inputs[i]]));
});

test('errors: 429 RESOURCE_EXHAUSTED, bad key, unknown model', { skip }, async () => {
  const want = S['gemini-sdk-ratelimit'].Fail;
  await assert.rejects(client().models.generateContent({ model: 'gemini-sdk-ratelimit', contents: 'hi' }), (err) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 429);
    const body = JSON.parse(err.message);
    assert.deepEqual(body, { error: { code: 429, message: want.Message, status: 'RESOURCE_EXHAUSTED' } });
    return true;
  });
  await assert.rejects(client('wrong-key').models.generateContent({ model: 'gemini-sdk-basic', contents: 'hi' }), (err) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 400);
    assert.equal(JSON.parse(err.message).error.details[0].reason, 'API_KEY_INVALID');
    return true;
  });
  await assert.rejects(client().models.generateContent({ model: 'no-such-model', contents: 'hi' }), (err) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 404);
    assert.equal(JSON.parse(err.message).error.status, 'NOT_FOUND');
    return true;
  });
});

test('a 503 on a streamed call fails the stream', { skip }, async () => {
  await assert.rejects((async () => {
    for await (const _ of await client().models.generateContentStream({ model: 'gemini-sdk-unavailable', contents: 'hi' })) { /* drain */ }
  })(), (err) => {
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 503);
    assert.equal(JSON.parse(err.message).error.status, 'UNAVAILABLE');
    return true;
  });
});

test('models.list', { skip }, async () => {
  const names = [];
  for await (const m of await client().models.list()) names.push(m.name);
  assert.deepEqual(names, fake.models.map((m) => 'models/' + m));
});
