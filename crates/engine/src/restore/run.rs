//! `run_restore`, phase by phase: check the request, start the client (or a scratch copy), decode and
//! verify the object, and only then let the client see the end of its input.

use super::*;

/// How the decoded stream reaches the client.
pub(super) enum Mode {
    /// Into the client's stdin (plain with psql, custom with one job).
    Pipe,
    /// Into a file, then `pg_restore` (custom with parallel jobs or a selection).
    File,
    /// Unpacked into a directory, then `pg_restore --format=directory`.
    Unpack,
    /// Only verified: `pg_restore` then reads the stored file (`RestoreRequest::local_file`) where it
    /// lies, as it would a scratch copy.
    InPlace,
}

/// Restores one object. On success the client exited 0 after reading a verified stream.
pub async fn run_restore(req: RestoreRequest) -> Result<RestoreOutcome, RestoreError> {
    // Everything knowable before reading the object (references to fields only: the request holds
    // the source stream, which is not Sync).
    let bad = req.options.check(req.format);
    if let Some((field, why)) = bad.first() {
        return Err(RestoreError::Invalid(format!("{field}: {why}")));
    }
    let identities = parse_identities(&req.identities)?;
    if req.format == DumpFormat::Plain {
        require_restricted_psql(&req.client_bin_dir).await?;
    }
    if req.encrypted && identities.is_empty() {
        return Err(RestoreError::Decryption(
            "the backup is encrypted: supply an age identity (AGE-SECRET-KEY-1...)".into(),
        ));
    }
    // pg_restore --schema / --table restore objects of a schema but not the schema itself.
    let mut needed: Vec<String> = req.options.schemas.clone();
    for t in &req.options.tables {
        if let Some((schema, _)) = t.split_once('.')
            && !needed.iter().any(|s| s == schema)
        {
            needed.push(schema.to_string());
        }
    }
    if !needed.is_empty() {
        ensure_schemas((&req.client_bin_dir, &req.conn, req.run_as), &needed).await?;
    }
    let mode = Mode::of(&req);
    let scratch = match mode {
        Mode::Pipe | Mode::InPlace => None,
        _ => Some(crate::backup::work_dir_in(&req.work_dir).map_err(RestoreError::Io)?),
    };

    // Object chunks flow through a small bounded channel into the blocking decoder.
    let (tx, rx) = mpsc::channel::<Result<Bytes, String>>(4);
    let mut source = req.source;
    let feeder = tokio::spawn(async move {
        while let Some(chunk) = source.next().await {
            let failed = chunk.is_err();
            if tx.send(chunk).await.is_err() || failed {
                break;
            }
        }
    });
    let stop = Arc::new(AtomicBool::new(false));
    let raw = Shared(Arc::new(Mutex::new(Raw {
        rx,
        cur: Bytes::new(),
        hasher: Sha256::new(),
        count: 0,
        progress: req.bytes_read.clone(),
        source_error: None,
        stop: stop.clone(),
    })));

    let client_name = if req.format == DumpFormat::Plain {
        "psql"
    } else {
        "pg_restore"
    };
    // The client reading stdin starts now, so the stream flows straight into it.
    let (mut child, stderr_task, stdin) = match mode {
        Mode::Pipe => {
            let who = (req.client_bin_dir.as_path(), &req.conn, req.run_as);
            let (child, stderr, stdin) = spawn_piped(who, client_name, req.format, &req.options)?;
            (Some(child), Some(stderr), Some(stdin))
        }
        _ => (None, None, None),
    };
    // A second handle on the client's stdin, held here: the client sees the end of its input only when
    // this one is dropped too, which happens after verification, or after the client was killed — never
    // because the decoder thread panicked or was abandoned on cancel.
    let stdin_guard = match &stdin {
        Some(f) => Some(f.try_clone().map_err(|e| RestoreError::Io(e.to_string()))?),
        None => None,
    };

    let out_path = scratch.as_ref().map(|s| s.path().join("archive"));
    // A spooled stream must also fit where it is spooled.
    let limit = match &scratch {
        Some(s) => {
            let free = nix::sys::statvfs::statvfs(s.path())
                .map(|v| v.blocks_available().saturating_mul(v.fragment_size()))
                .ok();
            match (req.max_decoded, free) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        }
        None => req.max_decoded,
    };
    // Replaying globals must not change the role pgward itself connects as (pg_dumpall carries its
    // password, which would lock pgward out of the target server).
    let skip_role = req.options.globals.then(|| req.conn.username.clone());
    let decode = {
        let (raw, compression, encrypted) = (raw.clone(), req.compression, req.encrypted);
        let out_path = out_path.clone();
        let format = req.format;
        tokio::task::spawn_blocking(move || {
            let layout = Layout {
                format,
                compression,
                encrypted,
                identities,
                skip_role,
                limit,
            };
            let decoded = decode_into(raw.clone(), layout, stdin, out_path);
            // Read what the decoder left (trailing bytes, or everything after a decode error), so the
            // checksum covers the whole object.
            if let Ok(mut r) = raw.0.lock() {
                r.drain();
            }
            decoded
        })
    };
    let mut decode = decode;
    let decoded = tokio::select! {
        r = &mut decode => r,
        _ = req.cancel.cancelled() => {
            // Kill the client before its input can end, then stop the decoder and wait for it (it may
            // still be writing into the scratch directory).
            if let Some(c) = child.as_mut() {
                kill_group(c);
                let _ = c.wait().await;
            }
            stop.store(true, Ordering::Relaxed);
            feeder.abort();
            let _ = decode.await;
            drop(stdin_guard);
            return Err(RestoreError::Cancelled);
        }
    };
    let decoded = match decoded {
        Ok(d) => d,
        Err(e) => {
            if let Some(c) = child.as_mut() {
                kill_group(c);
                let _ = c.wait().await;
            }
            feeder.abort();
            return Err(RestoreError::Io(format!("decoder panicked: {e}")));
        }
    };
    feeder.abort();

    let (count, sha, integrity) = verdict(
        &raw,
        req.expected_size,
        req.expected_sha256.as_ref(),
        &decoded,
    )?;
    let Decoded { failure, held } = decoded;
    if let Some(err) = integrity {
        // The client never saw the end of the stream; killing it rolls its transaction back. Only then
        // may its stdin close.
        if let Some(c) = child.as_mut() {
            kill_group(c);
            let _ = c.wait().await;
        }
        drop(held);
        drop(stdin_guard);
        return Err(err);
    }
    // Spooled modes: nothing has touched the target yet; a scratch file or directory that could not be
    // written completely (disk full) must not be handed to pg_restore.
    if child.is_none()
        && let Some(Failure::Write(e)) = &failure
    {
        return Err(RestoreError::Io(format!(
            "writing the backup to scratch space in {}: {e}",
            req.work_dir.display()
        )));
    }

    let (mut child, stderr_task) = match (child, stderr_task) {
        (Some(c), Some(s)) => {
            // Verified: release the held-back tail (unless the client already quit) and close stdin.
            if let Some(held) = held {
                let _ = tokio::task::spawn_blocking(move || held.release()).await;
            }
            drop(stdin_guard);
            (c, s)
        }
        _ => {
            let who = (req.client_bin_dir.as_path(), &req.conn, req.run_as);
            match (&scratch, &req.local_file) {
                (Some(scratch), _) => {
                    spawn_on_scratch(who, client_name, req.format, &req.options, scratch.path())?
                }
                (None, Some(file)) => spawn(
                    who,
                    client_name,
                    req.options.pg_restore_args(req.format),
                    Some(file),
                    Stdio::null(),
                )?,
                (None, None) => return Err(RestoreError::Io("no scratch directory".into())),
            }
        }
    };
    let status = tokio::select! {
        s = child.wait() => s.map_err(|e| RestoreError::Io(e.to_string()))?,
        _ = req.cancel.cancelled() => {
            kill_group(&mut child);
            let _ = child.wait().await;
            return Err(RestoreError::Cancelled);
        }
    };
    let ClientErrors {
        tail: stderr_tail,
        unexpected: unexpected_errors,
        refused_meta,
    } = stderr_task.await.unwrap_or_default();
    drop(scratch);
    // Restricted psql never ran it; whether or not psql went on (globals do), the dump is refused.
    if let Some(line) = refused_meta {
        return Err(RestoreError::MetaCommand(line));
    }
    let unexpected = req.options.globals && unexpected_errors > 0;
    if !status.success() || unexpected {
        return Err(RestoreError::Client {
            client: client_name,
            exit: status.into(),
            stderr: stderr_tail,
        });
    }
    if let Some(Failure::Write(e)) = failure {
        // The client exited 0 without reading everything: not a restore we can call complete.
        return Err(RestoreError::Io(format!(
            "{client_name} stopped reading the backup: {e}"
        )));
    }
    Ok(RestoreOutcome {
        bytes_read: count,
        sha256: sha,
        stderr_tail,
    })
}

impl Mode {
    fn of(req: &RestoreRequest) -> Self {
        match req.format {
            // A plain dump may carry its own BEGIN/COMMIT (large objects), which would end psql's single
            // transaction mid-stream: all-or-nothing plain restores replay a verified scratch copy.
            DumpFormat::Plain if req.options.single_transaction => Mode::File,
            DumpFormat::Plain => Mode::Pipe,
            // A selective restore lets pg_restore stop reading early (possibly committed before the object
            // was verified): it gets a verified file instead, as parallel restores do.
            DumpFormat::Custom
                if req.options.jobs <= 1
                    && req.options.schemas.is_empty()
                    && req.options.tables.is_empty() =>
            {
                Mode::Pipe
            }
            // Nothing to decode: the stored archive is what pg_restore reads.
            DumpFormat::Custom
                if req.local_file.is_some()
                    && req.compression == Compression::None
                    && !req.encrypted =>
            {
                Mode::InPlace
            }
            DumpFormat::Custom => Mode::File,
            DumpFormat::Directory => Mode::Unpack,
        }
    }
}

/// What the object came to once read: its size and sha256, and the first thing wrong with it — the
/// object itself first (source error, size, checksum), then how decoding went.
fn verdict(
    raw: &Shared,
    expected_size: Option<u64>,
    expected_sha256: Option<&String>,
    decoded: &Decoded,
) -> Result<(u64, String, Option<RestoreError>), RestoreError> {
    let (count, sha, source_error) = {
        let mut r = raw
            .0
            .lock()
            .map_err(|_| RestoreError::Io("poisoned".into()))?;
        let sha = hex::encode(std::mem::take(&mut r.hasher).finalize());
        (r.count, sha, r.source_error.clone())
    };
    let integrity = if let Some(e) = source_error {
        Some(RestoreError::Source(e))
    } else if let Some(expected) = expected_size.filter(|e| count < *e) {
        Some(RestoreError::Truncated {
            expected,
            got: count,
        })
    } else if let Some(expected) = expected_size.filter(|e| count > *e) {
        Some(RestoreError::ChecksumMismatch {
            expected: format!("{expected} bytes"),
            actual: format!("{count} bytes"),
        })
    } else if let Some(expected) = expected_sha256.filter(|e| **e != sha) {
        Some(RestoreError::ChecksumMismatch {
            expected: expected.clone(),
            actual: sha.clone(),
        })
    } else {
        match &decoded.failure {
            Some(Failure::Decrypt(m)) => Some(RestoreError::Decryption(m.clone())),
            Some(Failure::Decode(m)) => Some(RestoreError::CorruptStream(m.clone())),
            Some(Failure::Unsafe(m)) => Some(RestoreError::UnsafeArchive(m.clone())),
            Some(Failure::Limit(n)) => Some(RestoreError::DecompressionLimit(*n)),
            _ => None,
        }
    };
    Ok((count, sha, integrity))
}

type Who<'a> = (
    &'a Path,
    &'a ConnInfo,
    Option<crate::pg::client::ClientUser>,
);
type Client = (tokio::process::Child, tokio::task::JoinHandle<ClientErrors>);

/// The client that reads the decoded stream on its stdin as it is decoded; returns that stdin as a file
/// for the decoder.
fn spawn_piped(
    who: Who<'_>,
    client_name: &str,
    format: DumpFormat,
    options: &RestoreOptions,
) -> Result<
    (
        tokio::process::Child,
        tokio::task::JoinHandle<ClientErrors>,
        std::fs::File,
    ),
    RestoreError,
> {
    let args = if format == DumpFormat::Plain {
        psql_args(options)
    } else {
        options.pg_restore_args(format)
    };
    let (mut child, stderr) = spawn(who, client_name, args, None, Stdio::piped())?;
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| RestoreError::Io("no stdin".into()))?;
    let stdin = std::fs::File::from(
        stdin
            .into_owned_fd()
            .map_err(|e| RestoreError::Io(e.to_string()))?,
    );
    Ok((child, stderr, stdin))
}

/// The client of a verified scratch copy: psql reads the file on its standard input, opened here (psql,
/// possibly another user, needs no access to the scratch directory); pg_restore reads the archive.
fn spawn_on_scratch(
    who: Who<'_>,
    client_name: &str,
    format: DumpFormat,
    options: &RestoreOptions,
    scratch: &Path,
) -> Result<Client, RestoreError> {
    let archive = match format {
        DumpFormat::Directory => scratch.join("archive/dump"),
        _ => scratch.join("archive"),
    };
    if format == DumpFormat::Plain {
        let file = std::fs::File::open(&archive)
            .map_err(|e| RestoreError::Io(format!("opening {}: {e}", archive.display())))?;
        spawn(
            who,
            client_name,
            psql_args(options),
            None,
            Stdio::from(file),
        )
    } else {
        spawn(
            who,
            client_name,
            options.pg_restore_args(format),
            Some(&archive),
            Stdio::null(),
        )
    }
}
