package idempotency

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pinpointgw/pinpoint/internal/redisconn"
	"github.com/pinpointgw/pinpoint/internal/store"
)

// RedisStore keeps idempotency records in Redis, shared by every gateway
// node (store: redis). Each record is a hash at PREFIX + "idem:" + the
// scope's length + ":" + scope + ":" + key (the length keeps a scope from
// running into a key), with fields fp, tok (the holder's token), done,
// created and expires (Unix microseconds), and once done status, header
// (JSON) and body. The token never leaves Redis again: BeginIdempotent does
// not read it back, and the scripts compare it there. Redis expires the
// hashes itself, so DeleteExpiredIdempotency has nothing to do. It is safe
// for concurrent use.
type RedisStore struct {
	c *redisconn.Client
}

var _ store.Idempotency = (*RedisStore)(nil)

// NewRedisStore returns a store on c. The store does not own c: the
// gateway closes it.
func NewRedisStore(c *redisconn.Client) *RedisStore { return &RedisStore{c: c} }

// beginScript inserts an in-flight record unless a live one exists, which
// it returns (without the token). ARGV: fingerprint, created, expires, now
// (microseconds), lifetime in ms, token. Expiry is judged by the gateway's
// clock (now), like the SQL stores do; the key's PEXPIRE only collects it
// afterwards. A lapsed in-flight record passes to the new holder.
var beginScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'fp', 'done', 'created', 'expires', 'status', 'header', 'body')
if cur[1] and tonumber(cur[4]) > tonumber(ARGV[4]) then
	return cur
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'tok', ARGV[6], 'done', '0', 'created', ARGV[2], 'expires', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return false
`)

// completeScript stores the response of the in-flight record holding the
// token and returns 1, or returns 0 when there is none (gone, done, or
// taken over by another request after its lock lapsed). ARGV: status,
// header JSON, body, expires (microseconds), token. The key lives from then
// until expires measured from its creation, which is at least the TTL.
var completeScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'done', 'created', 'tok')
if cur[1] ~= '0' or cur[3] ~= ARGV[5] then
	return 0
end
local px = math.ceil((tonumber(ARGV[4]) - tonumber(cur[2])) / 1000)
if px < 1 then
	px = 1
end
redis.call('HSET', KEYS[1], 'done', '1', 'expires', ARGV[4], 'status', ARGV[1], 'header', ARGV[2], 'body', ARGV[3])
redis.call('PEXPIRE', KEYS[1], px)
return 1
`)

// releaseScript deletes the record when it is in flight and holds the
// token (ARGV[1]); a stored response and another holder's record are never
// released.
var releaseScript = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'done', 'tok')
if cur[1] == '0' and cur[2] == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`)

// key is the Redis key of (scope, key).
func (s *RedisStore) key(scope, key string) string {
	return s.c.Key("idem", strconv.Itoa(len(scope)), scope, key)
}

// BeginIdempotent implements store.Idempotency.
func (s *RedisStore) BeginIdempotent(ctx context.Context, rec store.IdempotencyRecord, now time.Time) (*store.IdempotencyRecord, error) {
	if rec.Token == "" {
		return nil, errors.New("redis idempotency begin: the record has no token")
	}
	ctx, cancel := context.WithTimeout(ctx, s.c.Timeout)
	defer cancel()
	life := rec.ExpiresAt.Sub(now).Milliseconds()
	if life < 1 {
		life = 1
	}
	v, err := beginScript.Run(ctx, s.c, []string{s.key(rec.Scope, rec.Key)},
		rec.Fingerprint, rec.CreatedAt.UnixMicro(), rec.ExpiresAt.UnixMicro(), now.UnixMicro(), life, rec.Token).Slice()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redis idempotency begin: %w", err)
	}
	cur, err := decodeRecord(rec.Scope, rec.Key, v)
	if err != nil {
		return nil, fmt.Errorf("redis idempotency begin: %w", err)
	}
	return cur, nil
}

// CompleteIdempotent implements store.Idempotency. It returns
// store.ErrNotFound when the record is not in flight any more, or another
// request holds it.
func (s *RedisStore) CompleteIdempotent(ctx context.Context, scope, key, token string, resp store.StoredResponse, expires time.Time) error {
	header, err := json.Marshal(resp.Header)
	if err != nil {
		return fmt.Errorf("redis idempotency complete: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, s.c.Timeout)
	defer cancel()
	n, err := completeScript.Run(ctx, s.c, []string{s.key(scope, key)},
		resp.Status, header, resp.Body, expires.UnixMicro(), token).Int()
	if err != nil {
		return fmt.Errorf("redis idempotency complete: %w", err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// ReleaseIdempotent implements store.Idempotency. Releasing a key that is
// gone, done or held by another request does nothing.
func (s *RedisStore) ReleaseIdempotent(ctx context.Context, scope, key, token string) error {
	ctx, cancel := context.WithTimeout(ctx, s.c.Timeout)
	defer cancel()
	if err := releaseScript.Run(ctx, s.c, []string{s.key(scope, key)}, token).Err(); err != nil {
		return fmt.Errorf("redis idempotency release: %w", err)
	}
	return nil
}

// DeleteExpiredIdempotency implements store.Idempotency: Redis deletes
// expired records itself, so it removes nothing and returns 0.
func (s *RedisStore) DeleteExpiredIdempotency(context.Context, time.Time) (int64, error) {
	return 0, nil
}

// decodeRecord reads beginScript's answer: fp, done, created, expires,
// status, header, body.
func decodeRecord(scope, key string, v []any) (*store.IdempotencyRecord, error) {
	if len(v) != 7 {
		return nil, fmt.Errorf("record has %d fields, want 7", len(v))
	}
	f := make([]string, len(v))
	for i, e := range v {
		if e == nil {
			continue
		}
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("record field %d is %T", i, e)
		}
		f[i] = s
	}
	created, err1 := strconv.ParseInt(f[2], 10, 64)
	expires, err2 := strconv.ParseInt(f[3], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("record times: %w", err)
	}
	rec := &store.IdempotencyRecord{
		Scope: scope, Key: key, Fingerprint: f[0], Done: f[1] == "1",
		CreatedAt: time.UnixMicro(created).UTC(), ExpiresAt: time.UnixMicro(expires).UTC(),
	}
	if !rec.Done {
		return rec, nil
	}
	status, err := strconv.Atoi(f[4])
	if err != nil {
		return nil, fmt.Errorf("record status: %w", err)
	}
	resp := &store.StoredResponse{Status: status, Body: []byte(f[6])}
	if f[5] != "" {
		var h http.Header
		if err := json.Unmarshal([]byte(f[5]), &h); err != nil {
			return nil, fmt.Errorf("record header: %w", err)
		}
		resp.Header = h
	}
	rec.Response = resp
	return rec, nil
}
