//! Prometheus metrics at `/metrics`, computed from the catalog at scrape time (so every pgward process
//! reports the same numbers, whichever one is scraped). Text exposition format 0.0.4.

use std::fmt::Write as _;

use actix_web::{HttpResponse, get, web};
use pgward_api_types::{
    ApiError, CheckStatus, DeliveryStatus, ExecutionStatus, HealthStatus, RestorationStatus,
};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::auth::Authenticated;
use crate::error::AppError;
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(metrics);
}

/// Prometheus metrics: per task the last success, duration, size and proofs; executions and
/// restorations by status; health of databases and destinations; queue depth; webhook delivery
/// failures. Needs a token unless
/// `server.metrics_public` is set.
#[utoipa::path(
    operation_id = "metrics",
    tag = "system",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 401, description = "not authenticated (and server.metrics_public is off)", body = ApiError),
    )
)]
#[get("/metrics")]
async fn metrics(
    state: web::Data<AppState>,
    auth: Option<Authenticated>,
) -> Result<HttpResponse, AppError> {
    if auth.is_none() && !state.config.server.metrics_public {
        return Err(AppError::Unauthorized);
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(render(&state).await?))
}

/// A label value as the text format wants it: backslash, double quote and newline escaped.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

struct Out(String);

impl Out {
    fn family(&mut self, name: &str, kind: &str, help: &str) {
        let _ = writeln!(self.0, "# HELP {name} {help}\n# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let labels: Vec<String> = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", esc(v)))
            .collect();
        if labels.is_empty() {
            let _ = writeln!(self.0, "{name} {value}");
        } else {
            let _ = writeln!(self.0, "{name}{{{}}} {value}", labels.join(","));
        }
    }
}

async fn rows(state: &AppState, sql: &str) -> Result<Vec<sea_orm::QueryResult>, AppError> {
    Ok(state
        .db
        .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
        .await?)
}

async fn render(state: &AppState) -> Result<String, AppError> {
    let mut out = Out(String::new());

    // Per task: the newest successful run and the latest proofs.
    let tasks = rows(
        state,
        &format!("SELECT t.id::text AS id, t.name, \
           extract(epoch FROM s.finished_at)::float8 AS last_success, \
           extract(epoch FROM (s.finished_at - s.started_at))::float8 AS duration, \
           s.size::float8 AS size, \
           (SELECT (CASE e.verify_status WHEN '{ok}' THEN 1 ELSE 0 END)::float8 FROM executions e \
              WHERE e.task_id = t.id AND e.verify_status IN ('{ok}', '{failed}') \
              ORDER BY e.verified_at DESC LIMIT 1) AS verify_ok, \
           (SELECT (CASE e.test_restore_status WHEN '{ok}' THEN 1 ELSE 0 END)::float8 FROM executions e \
              WHERE e.task_id = t.id AND e.test_restore_status IN ('{ok}', '{failed}') \
              ORDER BY e.test_restored_at DESC LIMIT 1) AS test_restore_ok, \
           (CASE WHEN t.overdue_since IS NULL THEN 0 ELSE 1 END)::float8 AS overdue \
         FROM tasks t LEFT JOIN LATERAL ( \
           SELECT finished_at, started_at, size FROM executions e \
           WHERE e.task_id = t.id AND e.status = '{success}' AND e.parent_id IS NULL \
           ORDER BY e.finished_at DESC LIMIT 1) s ON true \
         ORDER BY t.name",
            ok = CheckStatus::Ok.as_str(),
            failed = CheckStatus::Failed.as_str(),
            success = ExecutionStatus::Success.as_str(),
        ),
    )
    .await?;
    let series: [(&str, &str, &str); 6] = [
        (
            "pgward_task_last_success_timestamp_seconds",
            "last_success",
            "Unix time the task's newest successful backup finished.",
        ),
        (
            "pgward_task_last_duration_seconds",
            "duration",
            "Duration of the task's newest successful backup.",
        ),
        (
            "pgward_task_last_size_bytes",
            "size",
            "Stored size of the task's newest successful backup.",
        ),
        (
            "pgward_task_verified",
            "verify_ok",
            "1 when the task's latest verification held, 0 when it failed.",
        ),
        (
            "pgward_task_test_restored",
            "test_restore_ok",
            "1 when the task's latest test-restore succeeded, 0 when it failed.",
        ),
        (
            "pgward_task_overdue",
            "overdue",
            "1 while the task has had no successful backup within its schedule's interval plus the grace period.",
        ),
    ];
    for (name, column, help) in series {
        out.family(name, "gauge", help);
        for r in &tasks {
            let (id, task): (String, String) = (r.try_get("", "id")?, r.try_get("", "name")?);
            if let Some(v) = r.try_get::<Option<f64>>("", column)? {
                out.sample(name, &[("task", &task), ("task_id", &id)], v);
            }
        }
    }

    for (name, table, help, statuses) in [
        (
            "pgward_executions",
            "executions",
            "Backup executions in the catalog, by status.",
            &[
                ExecutionStatus::Queued,
                ExecutionStatus::Running,
                ExecutionStatus::Success,
                ExecutionStatus::Failed,
                ExecutionStatus::Cancelled,
                ExecutionStatus::Deleted,
            ]
            .map(ExecutionStatus::as_str)[..],
        ),
        (
            "pgward_restorations",
            "restorations",
            "Restorations in the catalog, by status.",
            &[
                RestorationStatus::Queued,
                RestorationStatus::Running,
                RestorationStatus::Success,
                RestorationStatus::Failed,
                RestorationStatus::Cancelled,
            ]
            .map(RestorationStatus::as_str)[..],
        ),
    ] {
        let counts = rows(
            state,
            &format!("SELECT status, count(*)::float8 AS n FROM {table} GROUP BY status"),
        )
        .await?;
        out.family(name, "gauge", help);
        for s in statuses {
            let n = counts
                .iter()
                .find(|r| r.try_get::<String>("", "status").ok().as_deref() == Some(*s))
                .and_then(|r| r.try_get::<f64>("", "n").ok())
                .unwrap_or(0.0);
            out.sample(name, &[("status", s)], n);
        }
    }

    for (name, table, label, help) in [
        (
            "pgward_database_healthy",
            "databases",
            "database",
            "1 when the database's latest health check passed, 0 when it failed (absent: not checked).",
        ),
        (
            "pgward_destination_healthy",
            "destinations",
            "destination",
            "1 when the destination's latest health check passed, 0 when it failed (absent: not checked).",
        ),
    ] {
        out.family(name, "gauge", help);
        let id_label = format!("{label}_id");
        for r in rows(
            state,
            &format!(
                "SELECT id::text AS id, name, health_status FROM {table} \
                 WHERE health_status IN ('{healthy}', '{unhealthy}') ORDER BY name",
                healthy = HealthStatus::Healthy.as_str(),
                unhealthy = HealthStatus::Unhealthy.as_str(),
            ),
        )
        .await?
        {
            let (id, n, s): (String, String, String) = (
                r.try_get("", "id")?,
                r.try_get("", "name")?,
                r.try_get("", "health_status")?,
            );
            let v = if HealthStatus::parse(&s) == Some(HealthStatus::Healthy) {
                1.0
            } else {
                0.0
            };
            out.sample(name, &[(label, &n), (&id_label, &id)], v);
        }
    }

    // Webhooks: failures per webhook (ever, and within the delivery log's retention), deliveries by
    // status. "Send test now" deliveries are not counted: they are not notifications that went missing.
    let hooks = rows(
        state,
        &format!("SELECT w.id::text AS id, w.name, w.failed_deliveries::float8 AS failed_total, \
           (SELECT count(*) FROM webhook_deliveries d \
              WHERE d.webhook_id = w.id AND d.status = '{failed}' AND NOT d.test)::float8 AS failed_kept, \
           (SELECT count(*) FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id \
              WHERE d.webhook_id = w.id AND NOT d.test \
                AND (a.response_status IS NULL OR a.response_status NOT BETWEEN 200 AND 299))::float8 AS failed_attempts \
         FROM webhooks w ORDER BY w.name_key",
            failed = DeliveryStatus::Failed.as_str(),
        ),
    )
    .await?;
    for (name, kind, column, help) in [
        (
            "pgward_webhook_failed_deliveries_total",
            "counter",
            "failed_total",
            "Deliveries of the webhook that failed after their last attempt (never decreases).",
        ),
        (
            "pgward_webhook_delivery_failures",
            "gauge",
            "failed_kept",
            "Deliveries of the webhook that failed after their last attempt (kept in the delivery log).",
        ),
        (
            "pgward_webhook_failed_attempts",
            "gauge",
            "failed_attempts",
            "Attempts of the webhook that got no 2xx answer (kept in the delivery log).",
        ),
    ] {
        out.family(name, kind, help);
        for r in &hooks {
            let (id, n): (String, String) = (r.try_get("", "id")?, r.try_get("", "name")?);
            out.sample(
                name,
                &[("webhook", &n), ("webhook_id", &id)],
                r.try_get("", column)?,
            );
        }
    }
    let by_status = rows(
        state,
        "SELECT status, count(*)::float8 AS n FROM webhook_deliveries WHERE NOT test GROUP BY status",
    )
    .await?;
    out.family(
        "pgward_webhook_deliveries",
        "gauge",
        "Webhook deliveries in the log, by status (without \"send test now\").",
    );
    for s in [
        DeliveryStatus::Queued,
        DeliveryStatus::Sending,
        DeliveryStatus::Retrying,
        DeliveryStatus::Success,
        DeliveryStatus::Failed,
    ]
    .map(DeliveryStatus::as_str)
    {
        let n = by_status
            .iter()
            .find(|r| r.try_get::<String>("", "status").ok().as_deref() == Some(s))
            .and_then(|r| r.try_get::<f64>("", "n").ok())
            .unwrap_or(0.0);
        out.sample("pgward_webhook_deliveries", &[("status", s)], n);
    }

    let depth = rows(
        state,
        &format!(
            "SELECT (SELECT count(*) FROM executions WHERE status = '{queued}')::float8 AS backups, \
                    (SELECT count(*) FROM restorations WHERE status = '{restore_queued}')::float8 AS restores, \
                    (SELECT count(*) FROM webhook_deliveries WHERE status IN ('{delivery_queued}', '{retrying}'))::float8 AS webhooks",
            queued = ExecutionStatus::Queued.as_str(),
            restore_queued = RestorationStatus::Queued.as_str(),
            delivery_queued = DeliveryStatus::Queued.as_str(),
            retrying = DeliveryStatus::Retrying.as_str(),
        ),
    )
    .await?;
    out.family(
        "pgward_queue_depth",
        "gauge",
        "Backups, restores and webhook deliveries waiting to start.",
    );
    if let Some(r) = depth.first() {
        out.sample(
            "pgward_queue_depth",
            &[("queue", "backups")],
            r.try_get("", "backups")?,
        );
        out.sample(
            "pgward_queue_depth",
            &[("queue", "restorations")],
            r.try_get("", "restores")?,
        );
        out.sample(
            "pgward_queue_depth",
            &[("queue", "webhooks")],
            r.try_get("", "webhooks")?,
        );
    }
    Ok(out.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(esc("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        let mut o = Out(String::new());
        o.sample("m", &[("task", "x\"y")], 1.5);
        assert_eq!(o.0, "m{task=\"x\\\"y\"} 1.5\n");
    }
}
