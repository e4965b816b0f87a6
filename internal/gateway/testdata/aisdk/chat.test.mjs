// Chat, streaming, tools, embeddings and models through Pinpoint with the
// official openai SDK, unchanged, for every provider kind the Go side
// configured (OpenAI, an OpenAI-compatible server, Anthropic, Gemini).
// Every expected value is one the Go side scripted into the fakes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { env, skip, client, user, checkExchanges, remember } from './common.mjs';

const providers = env?.providers ?? [];

// sameArguments compares tool call arguments: byte for byte where the
// provider speaks OpenAI's format (the gateway passes them through), as
// JSON where the gateway rebuilt them from the provider's objects.
const sameArguments = (p, got, want) => {
  if (p.wire === 'openai') assert.equal(got, want);
  else assert.deepEqual(JSON.parse(got), JSON.parse(want));
};

for (const p of providers) {
  const R = p.replies;

  test(`${p.name}: chat completion`, { skip }, async () => {
    const res = await client().chat.completions.create({ model: `${p.name}-chat`, messages: user('Capital of France?'), max_tokens: 64 });
    assert.equal(res.object, 'chat.completion');
    assert.equal(res.choices.length, 1);
    assert.equal(res.choices[0].message.role, 'assistant');
    assert.equal(res.choices[0].message.content, R.chat.Text);
    assert.equal(res.choices[0].finish_reason, 'stop');
    assert.equal(res.usage.prompt_tokens, R.chat.Usage.Input);
    assert.equal(res.usage.completion_tokens, R.chat.Usage.Output);
    assert.equal(res.usage.total_tokens, R.chat.Usage.Input + R.chat.Usage.Output);
    remember(`${p.name}-chat`, res._request_id);
  });

  test(`${p.name}: stream with include_usage ends with one usage chunk`, { skip }, async () => {
    const stream = await client().chat.completions.create({
      model: `${p.name}-stream`, messages: user('Count to five.'), max_tokens: 64, stream: true, stream_options: { include_usage: true },
    });
    const pieces = [];
    let role, finish, usage, usageChunks = 0, afterUsage = 0;
    for await (const chunk of stream) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      if (usage) afterUsage++;
      if (chunk.usage) {
        usage = chunk.usage;
        usageChunks++;
        assert.deepEqual(chunk.choices, []);
        continue;
      }
      const c = chunk.choices[0];
      if (!c) continue;
      if (c.delta?.role) role = c.delta.role;
      if (c.delta?.content) pieces.push(c.delta.content);
      if (c.finish_reason) finish = c.finish_reason;
    }
    assert.equal(role, 'assistant');
    assert.equal(pieces.join(''), R.stream.Text);
    assert.ok(pieces.length > 1, `the text came in pieces (${pieces.length})`);
    assert.equal(finish, 'stop');
    assert.equal(usageChunks, 1);
    assert.equal(afterUsage, 0, 'the usage chunk is the last');
    assert.equal(usage.prompt_tokens, R.stream.Usage.Input);
    assert.equal(usage.completion_tokens, R.stream.Usage.Output);
    assert.equal(usage.total_tokens, R.stream.Usage.Input + R.stream.Usage.Output);
  });

  test(`${p.name}: stream without include_usage carries no usage`, { skip }, async () => {
    const stream = await client().chat.completions.create({ model: `${p.name}-stream`, messages: user('Again.'), max_tokens: 64, stream: true });
    let text = '', finish;
    for await (const chunk of stream) {
      assert.ok(!chunk.usage, `a chunk carries usage: ${JSON.stringify(chunk)}`);
      assert.ok(chunk.choices.length > 0, `a chunk without choices reached the SDK: ${JSON.stringify(chunk)}`);
      text += chunk.choices[0].delta?.content ?? '';
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    assert.equal(text, R.stream.Text);
    assert.equal(finish, 'stop');
  });

  const tools = R.tools.ToolCalls.map((tc) => ({
    type: 'function',
    function: { name: tc.Name, description: `Calls ${tc.Name}.`, parameters: { type: 'object', properties: {} } },
  }));

  test(`${p.name}: tool calls, not streamed`, { skip }, async () => {
    const res = await client().chat.completions.create({ model: `${p.name}-tools`, messages: user('Weather and time in Paris?'), max_tokens: 64, tools });
    const msg = res.choices[0].message;
    assert.equal(res.choices[0].finish_reason, 'tool_calls');
    assert.equal(msg.tool_calls.length, R.tools.ToolCalls.length);
    R.tools.ToolCalls.forEach((want, i) => {
      assert.equal(msg.tool_calls[i].type, 'function');
      assert.equal(msg.tool_calls[i].function.name, want.Name);
      sameArguments(p, msg.tool_calls[i].function.arguments, want.Arguments);
      assert.match(msg.tool_calls[i].id, /\S/);
    });
    assert.equal(new Set(msg.tool_calls.map((t) => t.id)).size, msg.tool_calls.length, 'tool call ids are distinct');
    assert.equal(res.usage.prompt_tokens, R.tools.Usage.Input);
    assert.equal(res.usage.completion_tokens, R.tools.Usage.Output);
  });

  test(`${p.name}: tool calls, streamed and reassembled by the SDK`, { skip }, async () => {
    const runner = client().chat.completions.stream({ model: `${p.name}-tools`, messages: user('Weather and time in Paris?'), max_tokens: 64, tools });
    let argDeltas = 0;
    runner.on('chunk', (chunk) => {
      for (const tc of chunk.choices[0]?.delta?.tool_calls ?? []) if (tc.function?.arguments) argDeltas++;
    });
    const final = await runner.finalChatCompletion();
    const msg = final.choices[0].message;
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
    assert.equal(msg.tool_calls.length, R.tools.ToolCalls.length);
    R.tools.ToolCalls.forEach((want, i) => {
      assert.equal(msg.tool_calls[i].function.name, want.Name);
      sameArguments(p, msg.tool_calls[i].function.arguments, want.Arguments);
      assert.match(msg.tool_calls[i].id, /\S/);
    });
    assert.ok(argDeltas >= R.tools.ToolCalls.length, `arguments arrived as deltas (${argDeltas})`);
  });

  if (p.embed) {
    test(`${p.name}: embeddings, base64 (the SDK's default) and float with dimensions`, { skip }, async () => {
      const inputs = Object.keys(env.vectors['8']);
      const b64 = await client().embeddings.create({ model: `${p.name}-embed`, input: inputs });
      const flt = await client().embeddings.create({ model: `${p.name}-embed`, input: inputs, encoding_format: 'float', dimensions: 4 });
      for (const [res, dims] of [[b64, '8'], [flt, '4']]) {
        assert.equal(res.object, 'list');
        assert.equal(res.data.length, inputs.length);
        res.data.forEach((d, i) => {
          assert.equal(d.index, i);
          assert.equal(d.object, 'embedding');
          // The fakes' vectors are multiples of 1/256: exact in float32.
          assert.deepEqual(Array.from(Float32Array.from(d.embedding)), env.vectors[dims][inputs[i]]);
        });
        // Gemini reports no usage for embeddings; the gateway counts the
        // input with its tokenizer and writes that count into the answer.
        if (p.wire === 'openai') assert.equal(res.usage.prompt_tokens, R.embed.Usage.Input);
        else {
          assert.ok(res.usage.prompt_tokens > 0, `counted prompt_tokens ${res.usage.prompt_tokens}`);
          assert.equal(res.usage.total_tokens, res.usage.prompt_tokens);
        }
      }
    });
  }
}

test('models.list returns exactly the models the caller may use', { skip }, async () => {
  const ids = [];
  for await (const m of client().models.list()) {
    assert.equal(m.object, 'model');
    ids.push(m.id);
  }
  assert.deepEqual(ids, env.models);
  const one = await client().models.retrieve(env.models[0]);
  assert.equal(one.id, env.models[0]);
});

test('fallback: the first target fails with a 503, the next one answers', { skip }, async () => {
  const want = env.fallback;
  const res = await client().chat.completions.create({ model: 'fallback', messages: user('hi'), max_tokens: 16 });
  assert.equal(res.choices[0].message.content, want.Text);
  assert.equal(res.usage.prompt_tokens, want.Usage.Input);
  remember('fallback', res._request_id);
});

test('every answer has a request id and no provider key', { skip }, async () => {
  await checkExchanges(import.meta.filename ?? new URL(import.meta.url).pathname);
});
