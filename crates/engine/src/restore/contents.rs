//! What an archive holds (`pg_restore --list`), for selective restores.

use super::*;

/// One entry of an archive's table of contents (`pg_restore --list`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TocEntry {
    pub id: u32,
    /// `TABLE`, `TABLE DATA`, `INDEX`, `FK CONSTRAINT`, `SCHEMA`, ...
    pub kind: String,
    pub schema: Option<String>,
    pub name: String,
    pub owner: Option<String>,
}

/// Kinds of `pg_restore --list` entries that are more than one word (longest first wins).
pub(super) const MULTI_WORD_KINDS: &[&str] = &[
    "PUBLICATION TABLES IN SCHEMA",
    "TEXT SEARCH CONFIGURATION",
    "TEXT SEARCH DICTIONARY",
    "MATERIALIZED VIEW DATA",
    "TEXT SEARCH TEMPLATE",
    "FOREIGN DATA WRAPPER",
    "PROCEDURAL LANGUAGE",
    "DATABASE PROPERTIES",
    "TEXT SEARCH PARSER",
    "SEQUENCE OWNED BY",
    "SUBSCRIPTION TABLE",
    "PUBLICATION TABLE",
    "MATERIALIZED VIEW",
    "CHECK CONSTRAINT",
    "OPERATOR FAMILY",
    "STATISTICS DATA",
    "OPERATOR CLASS",
    "BLOB METADATA",
    "FOREIGN TABLE",
    "EVENT TRIGGER",
    "ACCESS METHOD",
    "FK CONSTRAINT",
    "LARGE OBJECT",
    "TABLE ATTACH",
    "INDEX ATTACH",
    "ROW SECURITY",
    "SEQUENCE SET",
    "USER MAPPING",
    "DEFAULT ACL",
    "TABLE DATA",
];

/// Parses `pg_restore --list` output (`3706; 0 16503 TABLE DATA public actor postgres`).
pub fn parse_toc(listing: &str) -> Vec<TocEntry> {
    listing
        .lines()
        .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
        .filter_map(|l| {
            let (id, rest) = l.split_once(';')?;
            let id = id.trim().parse().ok()?;
            let mut words = rest.split_whitespace();
            let (_catalog, _oid) = (words.next()?, words.next()?);
            let rest: Vec<&str> = words.collect();
            let joined = rest.join(" ");
            let kind = MULTI_WORD_KINDS
                .iter()
                .find(|k| joined.starts_with(&format!("{k} ")))
                .map(|k| k.to_string())
                .unwrap_or_else(|| rest.first().map(|s| s.to_string()).unwrap_or_default());
            let tail: Vec<&str> = rest[kind.split(' ').count()..].to_vec();
            let (schema, body) = tail.split_first()?;
            let (owner, name) = match body.split_last() {
                Some((o, n)) if !n.is_empty() => (Some(o.to_string()), n.join(" ")),
                Some((n, _)) => (None, n.to_string()),
                None => (None, String::new()),
            };
            Some(TocEntry {
                id,
                kind,
                schema: (*schema != "-").then(|| schema.to_string()),
                name,
                owner,
            })
        })
        .collect()
}

/// The table of contents of a custom or directory archive. Reads only as much of the object as the
/// TOC needs (the start of a custom archive; `toc.dat` of a directory one).
pub async fn list_contents(
    client_bin_dir: &Path,
    format: DumpFormat,
    compression: Compression,
    encrypted: bool,
    source: BoxStream<'static, Result<Bytes, String>>,
    identities: &[String],
    work_dir: &Path,
) -> Result<Vec<TocEntry>, RestoreError> {
    if format == DumpFormat::Plain {
        return Err(RestoreError::Invalid(
            "plain SQL dumps have no table of contents".into(),
        ));
    }
    let identities = parse_identities(identities)?;
    let scratch = crate::backup::work_dir_in(work_dir).map_err(RestoreError::Io)?;
    let (tx, rx) = mpsc::channel::<Result<Bytes, String>>(4);
    let mut source = source;
    let feeder = tokio::spawn(async move {
        while let Some(chunk) = source.next().await {
            if tx.send(chunk).await.is_err() {
                break;
            }
        }
    });
    let raw = Shared(Arc::new(Mutex::new(Raw {
        rx,
        cur: Bytes::new(),
        hasher: Sha256::new(),
        count: 0,
        progress: Arc::new(AtomicU64::new(0)),
        source_error: None,
        stop: Arc::new(AtomicBool::new(false)),
    })));
    let toc = scratch.path().join("toc");
    let out = toc.clone();
    let extracted = tokio::task::spawn_blocking(move || -> Result<PathBuf, RestoreError> {
        let failed = |f: Failure| match f {
            Failure::Decrypt(m) => RestoreError::Decryption(m),
            Failure::Decode(m) | Failure::Write(m) => RestoreError::CorruptStream(m),
            Failure::Unsafe(m) => RestoreError::UnsafeArchive(m),
            Failure::Limit(n) => RestoreError::DecompressionLimit(n),
        };
        let mut decoded = decoder(raw, compression, encrypted, &identities).map_err(failed)?;
        std::fs::create_dir_all(&out).map_err(|e| RestoreError::Io(e.to_string()))?;
        if format == DumpFormat::Directory {
            let mut archive = tar::Archive::new(ReadSide(&mut decoded));
            for entry in archive
                .entries()
                .map_err(|e| RestoreError::CorruptStream(e.to_string()))?
            {
                let mut entry = entry.map_err(|e| RestoreError::CorruptStream(e.to_string()))?;
                let path = check_entry(&entry).map_err(RestoreError::UnsafeArchive)?;
                if path.ends_with("toc.dat") {
                    // A table of contents is small; a huge one is a bomb aimed at the work directory.
                    if entry.size() > 64 << 20 {
                        return Err(RestoreError::DecompressionLimit(64 << 20));
                    }
                    entry
                        .unpack(out.join("toc.dat"))
                        .map_err(|e| RestoreError::Io(e.to_string()))?;
                    return Ok(out);
                }
            }
            Err(RestoreError::CorruptStream(
                "no toc.dat in the archive".into(),
            ))
        } else {
            // The TOC sits at the start of a custom archive; 64 MiB is far more than any TOC.
            let file = out.join("archive.dump");
            let mut f =
                std::fs::File::create(&file).map_err(|e| RestoreError::Io(e.to_string()))?;
            let mut head = (&mut decoded).take(64 << 20);
            io::copy(&mut head, &mut f).map_err(|e| RestoreError::CorruptStream(e.to_string()))?;
            Ok(file)
        }
    })
    .await
    .map_err(|e| RestoreError::Io(format!("decoder panicked: {e}")))?;
    feeder.abort();
    let archive = extracted?;
    let out = crate::pg::client::command(&client_bin_dir.join("pg_restore"), "pgward")
        .arg("--list")
        .arg(match format {
            DumpFormat::Directory => "--format=directory",
            _ => "--format=custom",
        })
        .arg(&archive)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| RestoreError::Io(format!("running pg_restore --list: {e}")))?;
    drop(scratch);
    if !out.status.success() {
        return Err(RestoreError::Client {
            client: "pg_restore",
            exit: out.status.into(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    Ok(parse_toc(&String::from_utf8_lossy(&out.stdout)))
}
