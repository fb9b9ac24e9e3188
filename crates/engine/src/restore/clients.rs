//! The restore clients (psql, pg_restore): spawned in their own process group with a cleared environment,
//! their stderr read for errors, and killed as a group.

use super::*;

pub(super) const STDERR_TAIL: usize = 8192;
/// Plain dumps are only replayed by a psql that can be put in restricted mode (see `pg::restrict`).
pub(super) async fn require_restricted_psql(bin_dir: &Path) -> Result<(), RestoreError> {
    let psql = bin_dir.join("psql");
    let out = crate::pg::client::command(&psql, "pgward")
        .arg("--version")
        .output()
        .await
        .map_err(|e| RestoreError::Io(format!("running {} --version: {e}", psql.display())))?;
    let version = String::from_utf8_lossy(&out.stdout);
    if crate::pg::client::psql_supports_restrict(&version) {
        Ok(())
    } else {
        Err(RestoreError::Invalid(format!(
            "{} ({}) cannot replay a plain dump safely: it has no restricted mode (\\restrict, since \
             13.22, 14.19, 15.14, 16.10, 17.6); install a newer PostgreSQL client",
            psql.display(),
            version.trim()
        )))
    }
}

/// psql for plain dumps: no psqlrc, stop at the first error (globals files: keep going, judged after).
pub(super) fn psql_args(o: &RestoreOptions) -> Vec<String> {
    let stop = if o.globals { 0 } else { 1 };
    let mut a = vec![
        "--no-psqlrc".to_string(),
        "--quiet".to_string(),
        "--no-password".to_string(),
        format!("--set=ON_ERROR_STOP={stop}"),
    ];
    if o.single_transaction {
        a.push("--single-transaction".into());
    }
    a
}

/// SIGKILL to the client and every worker it forked (its process group).
pub(crate) fn kill_group(child: &mut tokio::process::Child) {
    if let Some(pid) = child.id() {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    let _ = child.start_kill();
}

/// Creates the chosen schemas in the target if they are missing (a selective restore needs them).
pub(super) async fn ensure_schemas(
    (bin_dir, conn, run_as): (&Path, &ConnInfo, Option<crate::pg::client::ClientUser>),
    schemas: &[String],
) -> Result<(), RestoreError> {
    let sql: String = schemas
        .iter()
        .map(|s| {
            format!(
                "CREATE SCHEMA IF NOT EXISTS \"{}\";",
                s.replace('"', "\"\"")
            )
        })
        .collect();
    let (child, stderr) = spawn(
        (bin_dir, conn, run_as),
        "psql",
        vec![
            "--no-psqlrc".into(),
            "--quiet".into(),
            "--no-password".into(),
            "--set=ON_ERROR_STOP=1".into(),
            format!("--command={sql}"),
        ],
        None,
        Stdio::null(),
    )?;
    let status = child
        .wait_with_output()
        .await
        .map_err(|e| RestoreError::Io(e.to_string()))?
        .status;
    if !status.success() {
        return Err(RestoreError::Client {
            client: "psql",
            exit: status.into(),
            stderr: stderr.await.unwrap_or_default().tail,
        });
    }
    Ok(())
}

/// Starts psql or pg_restore against the target; the password goes through the environment. psql runs
/// as `run_as` when given (pg_restore reads archives from the scratch directory, so it stays pgward's).
pub(super) fn spawn(
    (bin_dir, conn, run_as): (&Path, &ConnInfo, Option<crate::pg::client::ClientUser>),
    client: &str,
    args: Vec<String>,
    archive: Option<&Path>,
    stdin: Stdio,
) -> Result<(tokio::process::Child, tokio::task::JoinHandle<ClientErrors>), RestoreError> {
    let bin = bin_dir.join(client);
    let run_as = if client == "psql" { run_as } else { None };
    let mut cmd = crate::pg::client::command_as(&bin, "pgward-restore", run_as);
    cmd.args(args)
        .arg(format!("--dbname={}", conn.without_password()))
        .stdin(stdin)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(a) = archive {
        cmd.arg(a);
    }
    if let Some(pw) = conn.password() {
        cmd.env("PGPASSWORD", pw);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| RestoreError::Io(format!("starting {}: {e}", bin.display())))?;
    let mut stderr = child
        .stderr
        .take()
        .ok_or_else(|| RestoreError::Io("no stderr".into()))?;
    // The whole stream is scanned line by line (a tail alone could hide an early error among many
    // expected ones); only the tail is kept.
    let task = tokio::spawn(async move {
        use tokio::io::AsyncBufReadExt;
        let mut lines = tokio::io::BufReader::new(&mut stderr).lines();
        let (mut tail, mut unexpected) = (std::collections::VecDeque::<String>::new(), 0usize);
        let mut refused_meta = None;
        let mut size = 0usize;
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("ERROR:") && !line.contains("already exists") {
                unexpected += 1;
            }
            if refused_meta.is_none()
                && crate::pg::restrict::REFUSED_MARKERS
                    .iter()
                    .any(|m| line.contains(m))
            {
                refused_meta = Some(line.chars().take(300).collect());
            }
            size += line.len() + 1;
            tail.push_back(line);
            while size > STDERR_TAIL && tail.len() > 1 {
                size -= tail.pop_front().map_or(0, |l| l.len() + 1);
            }
        }
        let text = tail.into_iter().collect::<Vec<_>>().join("\n");
        ClientErrors {
            tail: text.trim().to_string(),
            unexpected,
            refused_meta,
        }
    });
    Ok((child, task))
}

/// What a client's stderr said, scanned line by line.
#[derive(Default)]
pub(super) struct ClientErrors {
    pub(super) tail: String,
    /// ERROR lines other than "already exists" (judged for globals, which run without ON_ERROR_STOP).
    pub(super) unexpected: usize,
    /// The first meta-command restricted psql refused.
    pub(super) refused_meta: Option<String>,
}
