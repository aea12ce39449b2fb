-- +goose Up
-- Every app instance keeps API tokens and the door's events in memory
-- (internal/cache, docs/performance.md "Check-in"). These triggers tell the
-- instances when such a row changes: NOTIFY treffpunkt_changes with the
-- table's name, delivered at commit to every instance that LISTENs, which
-- then drops what it holds from that table. Only the columns the caches
-- hold count: a token's last_used_at or an event's seat counters change
-- all the time and must not empty the caches.

-- +goose StatementBegin
CREATE FUNCTION notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- PostgreSQL folds equal notifications of one transaction into one.
    PERFORM pg_notify('treffpunkt_changes', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER api_tokens_changed AFTER UPDATE ON api_tokens FOR EACH ROW
    WHEN ((OLD.org_id, OLD.role, OLD.is_admin, OLD.token_hash, OLD.revoked_at)
          IS DISTINCT FROM (NEW.org_id, NEW.role, NEW.is_admin, NEW.token_hash, NEW.revoked_at))
    EXECUTE FUNCTION notify_change();
CREATE TRIGGER api_tokens_deleted AFTER DELETE ON api_tokens FOR EACH ROW
    EXECUTE FUNCTION notify_change();

CREATE TRIGGER events_changed AFTER UPDATE ON events FOR EACH ROW
    WHEN ((OLD.org_id, OLD.slug, OLD.title, OLD.default_lang, OLD.starts_at, OLD.ends_at, OLD.timezone, OLD.status, OLD.questions)
          IS DISTINCT FROM (NEW.org_id, NEW.slug, NEW.title, NEW.default_lang, NEW.starts_at, NEW.ends_at, NEW.timezone, NEW.status, NEW.questions))
    EXECUTE FUNCTION notify_change();
CREATE TRIGGER events_deleted AFTER DELETE ON events FOR EACH ROW
    EXECUTE FUNCTION notify_change();

CREATE TRIGGER organisations_changed AFTER UPDATE ON organisations FOR EACH ROW
    WHEN ((OLD.slug, OLD.name) IS DISTINCT FROM (NEW.slug, NEW.name))
    EXECUTE FUNCTION notify_change();
CREATE TRIGGER organisations_deleted AFTER DELETE ON organisations FOR EACH ROW
    EXECUTE FUNCTION notify_change();

-- +goose Down
DROP TRIGGER organisations_deleted ON organisations;
DROP TRIGGER organisations_changed ON organisations;
DROP TRIGGER events_deleted ON events;
DROP TRIGGER events_changed ON events;
DROP TRIGGER api_tokens_deleted ON api_tokens;
DROP TRIGGER api_tokens_changed ON api_tokens;
DROP FUNCTION notify_change();
