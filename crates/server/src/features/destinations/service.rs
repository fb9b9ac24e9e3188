use std::time::Instant;

use chrono::Utc;
use pgward_api_types::{
    CreateDestinationRequest, Destination, DestinationConfig, DestinationTestResult, HealthStatus,
    UpdateDestinationRequest,
};
use pgward_engine::backup::Target;
use pgward_entity::destinations;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use secrecy::ExposeSecret;
use uuid::Uuid;

pub use super::cleanup::{Leftover, remove_or_record, retry_due as retry_cleanups};
use super::secrets::{self, Secrets};
use super::store;
use crate::error::AppError;
use crate::features::events::service as events;
use crate::features::health::service as health;
use crate::features::validate::{self, Fields, name_key};
use crate::state::AppState;

/// What this feature's resource is called in messages.
const KIND: &str = "destination";

fn aad(id: Uuid) -> String {
    format!("destinations:{id}")
}

fn public_config(m: &destinations::Model) -> Result<DestinationConfig, AppError> {
    serde_json::from_value(m.settings.clone()).map_err(|e| {
        AppError::Internal(anyhow::Error::new(e).context("stored destination settings"))
    })
}

fn stored_secrets(state: &AppState, m: &destinations::Model) -> Result<Secrets, AppError> {
    let text = state.secrets.open(&m.secrets_encrypted, &aad(m.id))?;
    serde_json::from_str(text.expose_secret()).map_err(|e| {
        AppError::Internal(anyhow::Error::new(e).context("stored destination secrets"))
    })
}

fn to_dto(state: &AppState, m: &destinations::Model) -> Result<Destination, AppError> {
    Ok(Destination {
        id: m.id,
        name: m.name.clone(),
        config: public_config(m)?,
        secrets_set: stored_secrets(state, m)?.names_set(),
        health: health::info(
            &m.health_status,
            m.last_checked_at,
            m.last_error.as_ref(),
            m.health_latency_ms,
            m.health_interval_secs,
            m.health_next_at,
        ),
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

async fn find(state: &AppState, id: Uuid) -> Result<destinations::Model, AppError> {
    destinations::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("destination"))
}

/// The engine target of a saved destination (used by backups and downloads).
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn target_of(state: &AppState, id: Uuid) -> Result<Target, AppError> {
    let m = find(state, id).await?;
    let full = secrets::join(public_config(&m)?, &stored_secrets(state, &m)?);
    Ok(store::target(&id.to_string(), &full, &store_env(state))?
        .with_label(format!("\"{}\"", m.name)))
}

/// The target of a saved destination addressed by full keys (as executions record them, prefix included).
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn target_by_full_key(state: &AppState, id: Uuid) -> Result<Target, AppError> {
    let t = target_of(state, id).await?;
    Ok(Target::new(t.id.clone(), t.kind.clone(), "").with_label(t.label))
}

/// The URL signer of a saved object-store destination (`None` for local directories).
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn signer_of(
    state: &AppState,
    id: Uuid,
) -> Result<Option<std::sync::Arc<dyn object_store::signer::Signer>>, AppError> {
    let m = find(state, id).await?;
    let full = secrets::join(public_config(&m)?, &stored_secrets(state, &m)?);
    Ok(store::signer(&full, &policy(state))?)
}

fn store_env(state: &AppState) -> store::StoreEnv {
    store::StoreEnv {
        policy: policy(state),
        modes: state.config.storage.local_modes(),
    }
}

fn policy(state: &AppState) -> std::sync::Arc<pgward_engine::net::OutboundPolicy> {
    state
        .outbound
        .policy(pgward_engine::net::PeerKind::Destination)
}

/// Create, update and test refuse an endpoint the outbound policy refuses (nothing is stored).
fn check_endpoints(state: &AppState, config: &DestinationConfig) -> Result<(), AppError> {
    store::check_endpoints(config, &policy(state))
        .map_err(|e| AppError::AddressNotAllowed(e.to_string()))
}

/// What a probe object's name starts with.
const PROBE_PREFIX: &str = ".pgward-probe-";
/// How long a destination test (write, read back, delete a small object) may take.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

/// Write, read back and delete a probe object.
async fn probe(state: &AppState, config: &DestinationConfig) -> DestinationTestResult {
    let started = Instant::now();
    let outcome = match store::target("probe", config, &store_env(state)).map_err(|e| e.to_string())
    {
        Ok(t) => {
            let key = format!("{PROBE_PREFIX}{}", Uuid::new_v4().simple());
            // A person (or a script) waits for this answer: a store that does not answer within
            // PROBE_TIMEOUT is reported as such rather than retried for minutes.
            let outcome = tokio::time::timeout(PROBE_TIMEOUT, t.probe(&key))
                .await
                .unwrap_or_else(|_| Err(format!("no answer within {} s", PROBE_TIMEOUT.as_secs())));
            if outcome.is_ok() {
                // Probes of processes killed mid-probe (an hour is far beyond any probe's life).
                let hour = std::time::Duration::from_secs(3600);
                match t.remove_stale(PROBE_PREFIX, hour).await {
                    Ok(0) => {}
                    Ok(n) => {
                        tracing::info!(removed = n, "removed probe objects left by earlier checks")
                    }
                    Err(e) => tracing::debug!(error = %e, "sweeping old probe objects failed"),
                }
            }
            if outcome.is_err() {
                // A probe cut short (timeout) may have left its object or `.partial` file: removed in
                // the background, so the answer does not wait for a store that is not answering (the
                // next successful probe sweeps what is still there).
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(
                        std::time::Duration::from_secs(10),
                        t.cleanup_partial(&key),
                    )
                    .await;
                });
            }
            outcome
        }
        Err(e) => Err(e),
    };
    DestinationTestResult {
        ok: outcome.is_ok(),
        latency_ms: started.elapsed().as_millis() as u64,
        message: outcome.err(),
    }
}

async fn ensure_name_free(
    state: &AppState,
    name: &str,
    except: Option<Uuid>,
) -> Result<(), AppError> {
    let same_name =
        destinations::Entity::find().filter(destinations::Column::NameKey.eq(name_key(name)));
    validate::ensure_name_free(
        &state.db,
        KIND,
        name,
        same_name,
        destinations::Column::Id,
        except,
    )
    .await
}

#[tracing::instrument(skip_all)]
pub async fn list(state: &AppState) -> Result<Vec<Destination>, AppError> {
    let rows = destinations::Entity::find()
        .order_by_asc(destinations::Column::Id)
        .all(&state.db)
        .await?;
    rows.iter().map(|m| to_dto(state, m)).collect()
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn get(state: &AppState, id: Uuid) -> Result<Destination, AppError> {
    to_dto(state, &find(state, id).await?)
}

#[tracing::instrument(skip_all)]
pub async fn create(
    state: &AppState,
    req: CreateDestinationRequest,
) -> Result<Destination, AppError> {
    let mut f = Fields::default();
    f.check("name", validate::name(&req.name, 100));
    store::validate(&req.config, &state.config.local_roots(), &mut f);
    f.check(
        "health_interval_secs",
        health::check_interval(req.health_interval_secs),
    );
    f.finish()?;
    check_endpoints(state, &req.config)?;
    let name = req.name.trim().to_string();
    ensure_name_free(state, &name, None).await?;
    let tested = if req.skip_test {
        None
    } else {
        Some(probe(state, &req.config).await)
    };
    if let Some(t) = tested.as_ref().filter(|t| !t.ok) {
        return Err(AppError::ConnectionTestFailed(format!(
            "destination test failed: {}",
            t.message.clone().unwrap_or_default()
        )));
    }
    let (public, secrets) = secrets::split(req.config);
    let id = Uuid::now_v7();
    let now = Utc::now();
    let row = destinations::ActiveModel {
        id: Set(id),
        name: Set(name.clone()),
        name_key: Set(name_key(&name)),
        kind: Set(public.kind().to_string()),
        settings: Set(serde_json::to_value(&public).map_err(anyhow::Error::from)?),
        secrets_encrypted: Set(state.secrets.seal(
            &serde_json::to_string(&secrets).map_err(anyhow::Error::from)?,
            &aad(id),
        )?),
        health_status: Set(if tested.is_some() {
            HealthStatus::Healthy.as_str()
        } else {
            HealthStatus::Unknown.as_str()
        }
        .into()),
        last_checked_at: Set(tested.map(|_| now)),
        last_error: Set(None),
        health_next_at: Set(None),
        health_latency_ms: Set(None),
        health_interval_secs: Set(req.health_interval_secs.map(|s| s as i32)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&state.db)
    .await
    .map_err(|e| AppError::unique_name(e, KIND, &name))?;
    tracing::info!(destination_id = %id, kind = %row.kind, "destination created");
    to_dto(state, &row)
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn update(
    state: &AppState,
    id: Uuid,
    req: UpdateDestinationRequest,
) -> Result<Destination, AppError> {
    let row = find(state, id).await?;
    let mut f = Fields::default();
    f.check(
        "health_interval_secs",
        health::check_interval(req.health_interval_secs.flatten()),
    );
    if let Some(n) = &req.name {
        f.check("name", validate::name(n, 100));
    }
    // A new configuration of the same kind keeps stored secrets that it leaves out.
    let merged = match req.config {
        Some(new) => {
            let (public, fresh) = secrets::split(new);
            let old = stored_secrets(state, &row)?;
            let same_kind = public.kind() == row.kind;
            let secrets = if same_kind { fresh.or(old) } else { fresh };
            let full = secrets::join(public, &secrets);
            store::validate(&full, &state.config.local_roots(), &mut f);
            Some(full)
        }
        None => None,
    };
    f.finish()?;
    let name = validate::name_after(req.name.as_deref(), &row.name);
    if req.name.is_some() {
        ensure_name_free(state, &name, Some(id)).await?;
    }
    let now = Utc::now();
    let mut am: destinations::ActiveModel = row.into();
    am.name = Set(name.clone());
    am.name_key = Set(name_key(&name));
    if let Some(full) = merged {
        check_endpoints(state, &full)?;
        if !req.skip_test {
            let t = probe(state, &full).await;
            if !t.ok {
                return Err(AppError::ConnectionTestFailed(format!(
                    "destination test failed: {}",
                    t.message.unwrap_or_default()
                )));
            }
            am.health_status = Set(HealthStatus::Healthy.as_str().into());
            am.last_checked_at = Set(Some(now));
            am.last_error = Set(None);
        }
        let (public, secrets) = secrets::split(full);
        am.kind = Set(public.kind().to_string());
        am.settings = Set(serde_json::to_value(&public).map_err(anyhow::Error::from)?);
        am.secrets_encrypted = Set(state.secrets.seal(
            &serde_json::to_string(&secrets).map_err(anyhow::Error::from)?,
            &aad(id),
        )?);
    }
    if let Some(interval) = req.health_interval_secs {
        am.health_interval_secs = Set(interval.map(|s| s as i32));
        // The new interval counts from a check at the next scheduler pass.
        am.health_next_at = Set(None);
    }
    am.updated_at = Set(now);
    let row = am
        .update(&state.db)
        .await
        .map_err(|e| AppError::unique_name(e, KIND, &name))?;
    tracing::info!(destination_id = %id, "destination updated");
    to_dto(state, &row)
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn delete(state: &AppState, id: Uuid) -> Result<(), AppError> {
    let res = destinations::Entity::delete_by_id(id)
        .exec(&state.db)
        .await
        .map_err(|e| AppError::used_by_tasks(e, KIND))?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound("destination"));
    }
    tracing::info!(destination_id = %id, "destination deleted");
    Ok(())
}

#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn test_saved(state: &AppState, id: Uuid) -> Result<DestinationTestResult, AppError> {
    let row = find(state, id).await?;
    let full = secrets::join(public_config(&row)?, &stored_secrets(state, &row)?);
    let started_at = Utc::now();
    let started = std::time::Instant::now();
    let result = probe(state, &full).await;
    let latency = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
    let now = Utc::now();
    let tx = state.db.begin().await?;
    let row = health::lock_checked::<destinations::Entity>(&tx, id, KIND).await?;
    if health::is_stale(started_at, row.last_checked_at, row.updated_at) {
        return Ok(result);
    }
    let (before, name) = (row.health_status.clone(), row.name.clone());
    let mut am: destinations::ActiveModel = row.into();
    am.last_checked_at = Set(Some(now));
    let after = if result.ok {
        HealthStatus::Healthy.as_str()
    } else {
        HealthStatus::Unhealthy.as_str()
    };
    am.health_status = Set(after.into());
    am.health_latency_ms = Set(Some(latency));
    am.last_error = Set(result.message.clone());
    am.update(&tx).await?;
    let check = events::HealthCheck {
        resource: health::HealthResource::Destination,
        id,
        name: &name,
        before: &before,
        ok: result.ok,
        error: result.message.clone().filter(|_| !result.ok),
        checked_at: now,
    };
    events::commit_health_check(state, tx, check).await?;
    Ok(result)
}

#[tracing::instrument(skip_all)]
pub async fn test_config(
    state: &AppState,
    config: DestinationConfig,
) -> Result<DestinationTestResult, AppError> {
    let mut f = Fields::default();
    store::validate(&config, &state.config.local_roots(), &mut f);
    f.finish()?;
    check_endpoints(state, &config)?;
    Ok(probe(state, &config).await)
}

/// Seals every destination's credentials again under another key (`pgward secrets rotate-key`), in the
/// caller's transaction. Returns how many were resealed.
#[tracing::instrument(skip_all)]
pub async fn reseal_all<C: sea_orm::ConnectionTrait>(
    db: &C,
    from: &crate::crypto::SecretBox,
    to: &crate::crypto::SecretBox,
) -> anyhow::Result<usize> {
    let rows = destinations::Entity::find().all(db).await?;
    for m in &rows {
        let sealed = from.reseal(to, &m.secrets_encrypted, &aad(m.id))?;
        destinations::Entity::update_many()
            .col_expr(
                destinations::Column::SecretsEncrypted,
                sea_orm::sea_query::Expr::value(sealed),
            )
            .filter(destinations::Column::Id.eq(m.id))
            .exec(db)
            .await?;
    }
    Ok(rows.len())
}
