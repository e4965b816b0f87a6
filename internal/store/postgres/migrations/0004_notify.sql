-- 0004: change notifications. Every committed write that changes what a
-- gateway serves (a new revision; a tenant, consumer or API key created,
-- changed or deleted) sends a notification on channel pinpoint_events in
-- the same transaction, so PostgreSQL delivers it exactly when the change
-- is visible. The payload is JSON {"schema", "kind", "id"}: several stores
-- may share one database in different schemas, and listeners ignore the
-- others' events. Last-used times of keys are not worth a notification.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION pinpoint_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    target record;
BEGIN
    IF TG_OP = 'DELETE' THEN
        target := OLD;
    ELSE
        target := NEW;
    END IF;
    PERFORM pg_notify('pinpoint_events', json_build_object(
        'schema', TG_TABLE_SCHEMA,
        'kind', TG_ARGV[0],
        'id', to_jsonb(target) ->> TG_ARGV[1])::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER revisions_notify AFTER INSERT ON revisions
    FOR EACH ROW EXECUTE FUNCTION pinpoint_notify('revision', 'number');
CREATE TRIGGER tenants_notify AFTER INSERT OR UPDATE OR DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION pinpoint_notify('tenant', 'id');
CREATE TRIGGER consumers_notify AFTER INSERT OR UPDATE OR DELETE ON consumers
    FOR EACH ROW EXECUTE FUNCTION pinpoint_notify('consumer', 'id');
CREATE TRIGGER api_keys_notify AFTER INSERT OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION pinpoint_notify('key', 'id');
CREATE TRIGGER api_keys_notify_update AFTER UPDATE ON api_keys
    FOR EACH ROW
    WHEN ((to_jsonb(OLD) - 'last_used_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used_at'))
    EXECUTE FUNCTION pinpoint_notify('key', 'id');

-- +goose Down
DROP TRIGGER api_keys_notify_update ON api_keys;
DROP TRIGGER api_keys_notify ON api_keys;
DROP TRIGGER consumers_notify ON consumers;
DROP TRIGGER tenants_notify ON tenants;
DROP TRIGGER revisions_notify ON revisions;
DROP FUNCTION pinpoint_notify();
