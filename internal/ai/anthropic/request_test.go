package anthropic

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/pinpointgw/pinpoint/internal/ai/provider"

	"github.com/pinpointgw/pinpoint/internal/jsontext"
)

// sameJSON fails the test unless got and want are the same JSON value.
func sameJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("JSON differs\n got: %s\nwant: %s", got, want)
	}
}

func TestTranslateRequest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		body   string
		stream bool
		want   string
	}{
		{
			name: "defaults",
			body: `{"model":"m","messages":[{"role":"user","content":"Hi"}]}`,
			want: `{"model":"claude-x","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`,
		},
		{
			name:   "sampling, stop string, user, stream",
			body:   `{"model":"m","max_tokens":100,"temperature":0.5,"top_p":0.9,"stop":"END","user":"u-1","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hi"}]}`,
			stream: true,
			want:   `{"model":"claude-x","max_tokens":100,"temperature":0.5,"top_p":0.9,"stop_sequences":["END"],"stream":true,"metadata":{"user_id":"u-1"},"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`,
		},
		{
			name: "max_completion_tokens wins, stop array without empties",
			body: `{"max_tokens":100,"max_completion_tokens":50,"stop":["a","","b"],"messages":[{"role":"user","content":"Hi"}]}`,
			want: `{"model":"claude-x","max_tokens":50,"stop_sequences":["a","b"],"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`,
		},
		{
			name: "system and developer joined, text parts run together, escapes kept",
			body: `{"messages":[{"role":"system","content":"Be \"brief\"."},{"role":"developer","content":[{"type":"text","text":"Line\n"},{"type":"text","text":"two"}]},{"role":"user","content":"Hi"}]}`,
			want: `{"model":"claude-x","max_tokens":4096,"system":"Be \"brief\".\n\nLine\ntwo","messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`,
		},
		{
			name: "same roles merge, empty messages vanish",
			body: `{"messages":[{"role":"user","content":"a"},{"role":"user","content":[{"type":"text","text":"b"}]},{"role":"assistant","content":""},{"role":"assistant","content":"c"},{"role":"user","content":"d"}]}`,
			want: `{"model":"claude-x","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"assistant","content":[{"type":"text","text":"c"}]},{"role":"user","content":[{"type":"text","text":"d"}]}]}`,
		},
		{
			name: "images and a pdf",
			body: `{"messages":[{"role":"user","content":[{"type":"text","text":"What?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"high"}},{"type":"image_url","image_url":{"url":"https://example.com/cat.jpg"}},{"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0="}}]}]}`,
			want: `{"model":"claude-x","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"What?"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}},{"type":"image","source":{"type":"url","url":"https://example.com/cat.jpg"}},{"type":"document","source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0="}}]}]}`,
		},
		{
			name: "tool calls and results",
			body: `{"messages":[{"role":"user","content":"Weather?"},{"role":"assistant","content":"Let me look.","tool_calls":[{"id":"call_1","type":"function","function":{"name":"weather","arguments":"{\"city\": \"Paris\"}"}},{"id":"call_2","type":"function","function":{"name":"time","arguments":""}},{"id":"call_3","type":"function","function":{"name":"bad","arguments":"{not json"}}]},{"role":"tool","tool_call_id":"call_1","content":"sunny"},{"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"noon"},{"type":"text","text":" UTC"}]},{"role":"tool","tool_call_id":"call_3","content":""},{"role":"user","content":"Thanks"}]}`,
			want: `{"model":"claude-x","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Weather?"}]},{"role":"assistant","content":[{"type":"text","text":"Let me look."},{"type":"tool_use","id":"call_1","name":"weather","input":{"city":"Paris"}},{"type":"tool_use","id":"call_2","name":"time","input":{}},{"type":"tool_use","id":"call_3","name":"bad","input":{}}]},{"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"sunny"},{"type":"tool_result","tool_use_id":"call_2","content":"noon UTC"},{"type":"tool_result","tool_use_id":"call_3"},{"type":"text","text":"Thanks"}]}]}`,
		},
		{
			name: "tools, required, no parallel calls",
			body: `{"messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"weather","description":"Weather now","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]},"strict":true}},{"type":"function","function":{"name":"noargs"}},{"type":"function","function":{"name":"empty","parameters":{}}},{"type":"function","function":{"name":"untyped","parameters":{"properties":{"a":{"type":"integer"}}}}}],"tool_choice":"required","parallel_tool_calls":false}`,
			want: `{"model":"claude-x","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],"tools":[{"name":"weather","description":"Weather now","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},{"name":"noargs","input_schema":{"type":"object"}},{"name":"empty","input_schema":{"type":"object"}},{"name":"untyped","input_schema":{"type":"object","properties":{"a":{"type":"integer"}}}}],"tool_choice":{"type":"any","disable_parallel_tool_use":true}}`,
		},
		{
			name: "tool choice auto by default when parallel calls are off",
			body: `{"messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f"}}],"parallel_tool_calls":false}`,
			want: `{"model":"claude-x","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"auto","disable_parallel_tool_use":true}}`,
		},
		{
			name: "tool choice none",
			body: `{"messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"none","parallel_tool_calls":false}`,
			want: `{"model":"claude-x","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"none"}}`,
		},
		{
			name: "tool choice by name",
			body: `{"messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":{"type":"function","function":{"name":"f"}}}`,
			want: `{"model":"claude-x","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],"tools":[{"name":"f","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"f"}}`,
		},
		{
			name: "tool choice without tools is dropped",
			body: `{"messages":[{"role":"user","content":"Hi"}],"tool_choice":"auto"}`,
			want: `{"model":"claude-x","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`,
		},
		{
			name: "json_schema becomes a forced tool",
			body: `{"messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"person","description":"A person","strict":true,"schema":{"type":"object","properties":{"name":{"type":"string"}}}}}}`,
			want: `{"model":"claude-x","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],"tools":[{"name":"person","description":"A person","input_schema":{"type":"object","properties":{"name":{"type":"string"}}}}],"tool_choice":{"type":"tool","name":"person"}}`,
		},
		{
			name: "json_schema without a name",
			body: `{"messages":[{"role":"user","content":"Hi"}],"response_format":{"type":"json_schema","json_schema":{"schema":{"type":"object"}}}}`,
			want: `{"model":"claude-x","max_tokens":4096,"messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}],"tools":[{"name":"json_output","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"json_output"}}`,
		},
		{
			name: "json_object adds an instruction",
			body: `{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"response_format":{"type":"json_object"}}`,
			want: `{"model":"claude-x","max_tokens":4096,"system":"Be brief.\n\nRespond with a single JSON object and nothing else.","messages":[{"role":"user","content":[{"type":"text","text":"Hi"}]}]}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := translateRequest(&provider.Call{Op: provider.Chat, Body: []byte(tc.body), Model: "claude-x", Stream: tc.stream})
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, got, tc.want)
		})
	}
}

func TestTranslateRequestRefusals(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, body, param string }{
		{"not JSON", `{"messages":`, ""},
		{"several choices", `{"n":2,"messages":[{"role":"user","content":"Hi"}]}`, "n"},
		{"audio part", `{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]}`, "messages"},
		{"data URL without base64", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]}`, "messages"},
		{"file by id", `{"messages":[{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]}`, "messages"},
		{"unknown role", `{"messages":[{"role":"function","name":"f","content":"x"}]}`, "messages"},
		{"custom tool", `{"messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"custom","custom":{"name":"x"}}]}`, "tools"},
		{"tool without a name", `{"messages":[{"role":"user","content":"Hi"}],"tools":[{"type":"function","function":{}}]}`, "tools"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := translateRequest(&provider.Call{Op: provider.Chat, Body: []byte(tc.body), Model: "claude-x"})
			var pe *provider.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *provider.Error", err)
			}
			if pe.Kind != provider.Invalid || pe.Status != 400 || pe.Param != tc.param || pe.Message == "" {
				t.Fatalf("err = %+v, want Invalid 400 with param %q", pe, tc.param)
			}
		})
	}
}

func TestAppendJSONAsString(t *testing.T) {
	t.Parallel()
	cases := []struct{ raw, want string }{
		{`{}`, `{}`},
		{"{ \"a\" : [1, 2],\n \"b\": \"x y\\\"z\" }", `{"a":[1,2],"b":"x y\"z"}`},
		{`{"path":"C:\\dir"}`, `{"path":"C:\\dir"}`},
		{`{"é":"ü 😀"}`, `{"é":"ü 😀"}`},
	}
	for _, tc := range cases {
		lit := jsontext.AppendCompactString(nil, tc.raw)
		var s string
		if err := json.Unmarshal(lit, &s); err != nil {
			t.Fatalf("%s: literal %s: %v", tc.raw, lit, err)
		}
		if s != tc.want {
			t.Errorf("%s: got %s, want %s", tc.raw, s, tc.want)
		}
	}
}

func TestAppendString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", "plain", "quote\" back\\ nl\n tab\t cr\r", "\x00\x1f", "ü😀", "bad\xffutf8", "<&>"} {
		lit := jsontext.AppendString(nil, s)
		var got string
		if err := json.Unmarshal(lit, &got); err != nil {
			t.Fatalf("%q: %s: %v", s, lit, err)
		}
		want, _ := json.Marshal(s)
		var w string
		_ = json.Unmarshal(want, &w)
		if got != w {
			t.Errorf("%q: round trip %q, want %q", s, got, w)
		}
	}
}

func FuzzTranslateRequest(f *testing.F) {
	f.Add(`{"messages":[{"role":"user","content":"Hi"}]}`)
	f.Add(`{"messages":[{"role":"system","content":[{"type":"text","text":"S"}]},{"role":"assistant","tool_calls":[{"id":"c","function":{"name":"f","arguments":"{\"a\":1}"}}]},{"role":"tool","tool_call_id":"c","content":"r"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"properties":{}}}}],"tool_choice":"required","parallel_tool_calls":false,"stop":["x"]}`)
	f.Add(`{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}}]}],"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{}}}}`)
	f.Add(`{"messages":[{"role":"user","content":"\u00e9\ud83d\ude00"}],"user":"u","response_format":{"type":"json_object"}}`)
	f.Fuzz(func(t *testing.T, body string) {
		out, err := translateRequest(&provider.Call{Op: provider.Chat, Body: []byte(body), Model: "m\"odel"})
		if err != nil {
			var pe *provider.Error
			if !errors.As(err, &pe) || pe.Kind != provider.Invalid {
				t.Fatalf("error %v is not an Invalid *provider.Error", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("invalid JSON for %s:\n%s", body, out)
		}
	})
}
