use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                r#"
-- Roles: every user so far was an administrator; the value set is closed from now on.
ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('admin', 'operator', 'viewer'));
ALTER TABLE users ADD COLUMN disabled_at timestamptz;

-- A token acts with at most this role (NULL: its owner's role, for tokens made before roles); the owner's
-- current role caps it at every use.
ALTER TABLE api_tokens ADD COLUMN role text CHECK (role IN ('admin', 'operator', 'viewer'));

-- Where a session was opened from, for the sessions list.
ALTER TABLE sessions ADD COLUMN client_addr text;
ALTER TABLE sessions ADD COLUMN user_agent text;
ALTER TABLE sessions ADD COLUMN access_used_at timestamptz;

-- Refresh tokens a session has rotated away from. One presented again was copied: the whole session
-- (the family of tokens rotated from one login) ends.
CREATE TABLE session_retired_refresh (
    refresh_hash text PRIMARY KEY,
    session_id   uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    retired_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX session_retired_refresh_session_idx ON session_retired_refresh (session_id);

-- One-time invitations: the code is shown once to the admin who made it; only its hash is kept.
CREATE TABLE invitations (
    id          uuid PRIMARY KEY,
    email       text NOT NULL,
    name        text,
    role        text NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    code_hash   text NOT NULL UNIQUE,
    created_by  uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    revoked_at  timestamptz
);

-- Who did what, when and from where. No foreign keys: the record outlives users, tokens and resources.
CREATE TABLE audit_log (
    id            uuid PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT now(),
    actor_user_id uuid,
    actor_email   text,
    actor_token_id uuid,
    actor_token_name text,
    operation     text NOT NULL,
    method        text NOT NULL,
    path          text NOT NULL,
    resource      text NOT NULL,
    resource_id   text,
    action        text NOT NULL,
    fields        jsonb NOT NULL DEFAULT '[]',
    status        integer NOT NULL,
    client_addr   text,
    user_agent    text
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, at DESC);
CREATE INDEX audit_log_resource_idx ON audit_log (resource, resource_id, at DESC);
"#,
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE audit_log; DROP TABLE invitations; DROP TABLE session_retired_refresh; \
                 ALTER TABLE sessions DROP COLUMN client_addr, DROP COLUMN user_agent, DROP COLUMN access_used_at; \
                 ALTER TABLE api_tokens DROP COLUMN role; \
                 ALTER TABLE users DROP COLUMN disabled_at, DROP CONSTRAINT users_role_check;",
            )
            .await?;
        Ok(())
    }
}
