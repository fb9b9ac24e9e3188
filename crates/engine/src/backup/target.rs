//! Destinations as the pipeline sees them: a local directory or any `object_store` backend (S3, GCS,
//! Azure). Each upload consumes chunks from its own bounded channel.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::StreamExt;
use object_store::multipart::{MultipartStore, PartId};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// How long one cleanup request (abort, delete) may take: the object stores' own request timeout is
/// long (a part of a large backup needs it), but cleaning up after a store that hangs must not hold a
/// run for that long. What is not confirmed in time is retried later by the caller.
pub const CLEANUP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A multipart upload in progress: enough to abort it from another process.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingUpload {
    pub target_id: String,
    /// Full object name (with the target's prefix).
    pub key: String,
    pub upload_id: String,
}

/// Streams `rx` as a multipart upload whose id is reported through `started` before any data is sent.
/// Parts are `part_size` bytes (the last may be smaller); at most two are in flight.
async fn upload_tracked(
    mp: Arc<dyn MultipartStore>,
    target_id: &str,
    key: &str,
    mut rx: mpsc::Receiver<Chunk>,
    part_size: usize,
    started: Option<mpsc::UnboundedSender<PendingUpload>>,
) -> Result<u64, String> {
    use futures::stream::FuturesOrdered;
    let path = ObjectPath::from(key);
    let id = mp
        .create_multipart(&path)
        .await
        .map_err(|e| format!("starting upload: {e}"))?;
    if let Some(tx) = &started {
        let _ = tx.send(PendingUpload {
            target_id: target_id.to_string(),
            key: key.to_string(),
            upload_id: id.clone(),
        });
    }
    let mut parts: Vec<PartId> = Vec::new();
    // Spawned, so a part uploads while the next one fills; awaited in order, so part ids stay ordered.
    let mut inflight = FuturesOrdered::new();
    let mut aborts = Vec::new();
    let mut buf = bytes::BytesMut::with_capacity(part_size);
    let mut size = 0u64;
    let mut idx = 0usize;
    let result: Result<(), String> = async {
        loop {
            let msg = rx.recv().await;
            let finishing = matches!(msg, Some(Chunk::Finish));
            match msg {
                Some(Chunk::Data(b)) => {
                    size += b.len() as u64;
                    buf.extend_from_slice(&b);
                }
                Some(Chunk::Finish) => {}
                None => return Err("aborted".to_string()),
            }
            while buf.len() >= part_size || (finishing && (!buf.is_empty() || idx == 0)) {
                // A fresh buffer per part: frozen parts never share (and pin) the next part's allocation.
                let part = if buf.len() > part_size {
                    bytes::Bytes::copy_from_slice(&buf.split_to(part_size))
                } else {
                    std::mem::replace(&mut buf, bytes::BytesMut::with_capacity(part_size)).freeze()
                };
                let (mp, path, id) = (mp.clone(), path.clone(), id.clone());
                let i = idx;
                let handle = tokio::spawn(async move {
                    mp.put_part(&path, &id, i, PutPayload::from(part)).await
                });
                aborts.push(handle.abort_handle());
                inflight.push_back(handle);
                idx += 1;
                // At most two parts in flight: memory stays at about three part sizes.
                if inflight.len() >= 2
                    && let Some(done) = inflight.next().await
                {
                    parts.push(
                        done.map_err(|e| format!("uploading: {e}"))?
                            .map_err(|e| format!("uploading: {e}"))?,
                    );
                }
                if buf.is_empty() {
                    break;
                }
            }
            if finishing {
                while let Some(p) = inflight.next().await {
                    parts.push(
                        p.map_err(|e| format!("uploading: {e}"))?
                            .map_err(|e| format!("uploading: {e}"))?,
                    );
                }
                mp.complete_multipart(&path, &id, std::mem::take(&mut parts))
                    .await
                    .map_err(|e| format!("completing upload: {e}"))?;
                return Ok(());
            }
        }
    }
    .await;
    if result.is_err() {
        // Parts still uploading are stopped before the upload is aborted.
        for h in &aborts {
            h.abort();
        }
        drop(inflight);
        // Bounded: against a store that hangs, the caller records the upload for a later abort.
        let _ = tokio::time::timeout(CLEANUP_TIMEOUT, mp.abort_multipart(&path, &id)).await;
    }
    result.map(|()| size)
}

/// What flows to an uploader. A channel that closes without `Finish` means "abort".
#[derive(Debug)]
pub enum Chunk {
    Data(Bytes),
    Finish,
}

/// Permissions of what a local destination creates: a backup holds a whole database, so by default only
/// pgward's user may read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalModes {
    pub file: u32,
    pub dir: u32,
}

impl Default for LocalModes {
    fn default() -> Self {
        Self {
            file: 0o600,
            dir: 0o700,
        }
    }
}

/// Creates `dir` and its missing parents with `mode`.
async fn create_dirs(dir: &Path, mode: u32) -> std::io::Result<()> {
    let mut b = tokio::fs::DirBuilder::new();
    b.recursive(true).mode(mode);
    b.create(dir).await
}

/// Creates (truncates) `path` with `mode`.
async fn create_file(path: &Path, mode: u32) -> std::io::Result<tokio::fs::File> {
    tokio::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .await
}

#[derive(Clone)]
pub enum TargetKind {
    /// Written to a temporary name, fsynced, then renamed: a crash never leaves a half file under the
    /// final name.
    Local { root: PathBuf, modes: LocalModes },
    /// Streamed as a multipart upload; aborted on failure so no pending parts are left behind. With
    /// `multipart` (S3, GCS, Azure) the upload id is reported as soon as it exists, so that an upload
    /// orphaned by a killed process can still be aborted later.
    Object {
        store: Arc<dyn ObjectStore>,
        multipart: Option<Arc<dyn MultipartStore>>,
    },
}

impl std::fmt::Debug for TargetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Local { root, .. } => write!(f, "Local({})", root.display()),
            Self::Object { store, .. } => write!(f, "Object({store})"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Target {
    /// The caller's name for this destination (e.g. its id); echoed in outcomes and errors.
    pub id: String,
    pub kind: TargetKind,
    /// Prepended to every key on this target (an S3 "folder"); may be empty.
    pub prefix: String,
    /// How messages name this destination (people read names, not ids); the id unless set.
    pub label: String,
}

impl Target {
    pub fn new(id: impl Into<String>, kind: TargetKind, prefix: impl Into<String>) -> Self {
        let id = id.into();
        Self {
            label: id.clone(),
            id,
            kind,
            prefix: prefix.into(),
        }
    }

    /// The same target, named `label` in messages.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// `prefix/key`, the name the object really has on this target.
    pub fn full_key(&self, key: &str) -> String {
        let p = self.prefix.trim_matches('/');
        let k = key.trim_start_matches('/');
        if p.is_empty() {
            k.to_string()
        } else {
            format!("{p}/{k}")
        }
    }

    fn local_path(root: &Path, key: &str) -> PathBuf {
        root.join(key.trim_start_matches('/'))
    }

    /// Streams chunks from `rx` into `key`. Returns the number of bytes stored.
    pub(crate) async fn upload(
        &self,
        key: &str,
        mut rx: mpsc::Receiver<Chunk>,
        part_size: usize,
        started: Option<mpsc::UnboundedSender<PendingUpload>>,
    ) -> Result<u64, String> {
        let key = self.full_key(key);
        let key = key.as_str();
        match &self.kind {
            TargetKind::Local { root, modes } => {
                let path = Self::local_path(root, key);
                let dir = path.parent().ok_or("invalid object key")?.to_path_buf();
                create_dirs(&dir, modes.dir)
                    .await
                    .map_err(|e| format!("creating {}: {e}", dir.display()))?;
                let name = path
                    .file_name()
                    .ok_or("invalid object key")?
                    .to_string_lossy()
                    .into_owned();
                let tmp = dir.join(format!(".{name}.partial"));
                let mut file = create_file(&tmp, modes.file)
                    .await
                    .map_err(|e| format!("creating {}: {e}", tmp.display()))?;
                let mut size = 0u64;
                let result: Result<(), String> = async {
                    loop {
                        match rx.recv().await {
                            Some(Chunk::Data(b)) => {
                                file.write_all(&b)
                                    .await
                                    .map_err(|e| format!("writing {}: {e}", tmp.display()))?;
                                size += b.len() as u64;
                            }
                            Some(Chunk::Finish) => break Ok(()),
                            None => break Err("aborted".to_string()),
                        }
                    }?;
                    // tokio writes in the background: the error of the last write (ENOSPC on a full
                    // disk) only surfaces on flush; sync_all alone would let a truncated file pass.
                    file.flush()
                        .await
                        .map_err(|e| format!("writing {}: {e}", tmp.display()))?;
                    file.sync_all()
                        .await
                        .map_err(|e| format!("fsync {}: {e}", tmp.display()))?;
                    let on_disk = file
                        .metadata()
                        .await
                        .map_err(|e| format!("reading {}: {e}", tmp.display()))?
                        .len();
                    if on_disk != size {
                        return Err(format!(
                            "writing {}: {on_disk} of {size} bytes reached the disk",
                            tmp.display()
                        ));
                    }
                    tokio::fs::rename(&tmp, &path)
                        .await
                        .map_err(|e| format!("renaming to {}: {e}", path.display()))?;
                    // The rename itself must survive a crash too.
                    if let Ok(d) = tokio::fs::File::open(&dir).await {
                        let _ = d.sync_all().await;
                    }
                    Ok(())
                }
                .await;
                if result.is_err() {
                    let _ = tokio::fs::remove_file(&tmp).await;
                }
                result.map(|()| size)
            }
            TargetKind::Object {
                multipart: Some(mp),
                ..
            } => upload_tracked(mp.clone(), &self.id, key, rx, part_size, started).await,
            TargetKind::Object {
                store,
                multipart: None,
            } => {
                let path = ObjectPath::from(key);
                let upload = store
                    .put_multipart(&path)
                    .await
                    .map_err(|e| format!("starting upload: {e}"))?;
                let mut w = WriteMultipart::new_with_chunk_size(upload, part_size);
                let mut size = 0u64;
                loop {
                    match rx.recv().await {
                        Some(Chunk::Data(b)) => {
                            // At most two parts in flight: memory stays at a few part sizes.
                            if let Err(e) = w.wait_for_capacity(2).await {
                                let _ = tokio::time::timeout(CLEANUP_TIMEOUT, w.abort()).await;
                                return Err(format!("uploading: {e}"));
                            }
                            size += b.len() as u64;
                            w.put(b);
                        }
                        Some(Chunk::Finish) => {
                            return w
                                .finish()
                                .await
                                .map(|_| size)
                                .map_err(|e| format!("completing upload: {e}"));
                        }
                        None => {
                            let _ = tokio::time::timeout(CLEANUP_TIMEOUT, w.abort()).await;
                            return Err("aborted".into());
                        }
                    }
                }
            }
        }
    }

    /// Aborts a multipart upload left behind by a process that died mid-backup.
    pub async fn abort_upload(&self, full_key: &str, upload_id: &str) -> Result<(), String> {
        match &self.kind {
            TargetKind::Object {
                multipart: Some(mp),
                ..
            } => match tokio::time::timeout(
                CLEANUP_TIMEOUT,
                mp.abort_multipart(&ObjectPath::from(full_key), &upload_id.to_string()),
            )
            .await
            {
                // Already aborted (or completed and gone): what was asked for holds.
                Ok(Ok(())) | Ok(Err(object_store::Error::NotFound { .. })) => Ok(()),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("no answer within {CLEANUP_TIMEOUT:?}")),
            },
            _ => Ok(()),
        }
    }

    /// Stores a small object in one request (manifests, probes).
    pub async fn put_small(&self, key: &str, data: Bytes) -> Result<(), String> {
        let key = self.full_key(key);
        let key = key.as_str();
        match &self.kind {
            TargetKind::Local { root, modes } => {
                let path = Self::local_path(root, key);
                if let Some(d) = path.parent() {
                    create_dirs(d, modes.dir).await.map_err(|e| e.to_string())?;
                }
                let tmp = path.with_extension("partial");
                let written = async {
                    let mut f = create_file(&tmp, modes.file).await?;
                    f.write_all(&data).await?;
                    // Surfaces the background write's error (a full disk), which drop would lose.
                    f.flush().await?;
                    drop(f);
                    tokio::fs::File::open(&tmp).await?.sync_all().await?;
                    tokio::fs::rename(&tmp, &path).await
                }
                .await;
                if written.is_err() {
                    // A full disk must not leave a `.partial` per attempt (manifests, health probes).
                    let _ = tokio::fs::remove_file(&tmp).await;
                }
                written.map_err(|e| e.to_string())
            }
            TargetKind::Object { store, .. } => store
                .put(&ObjectPath::from(key), PutPayload::from(data))
                .await
                .map(|_| ())
                .map_err(|e| refusal(&store.to_string(), &e)),
        }
    }

    /// The keys (below this target's prefix) of every manifest stored here, sorted: what a catalog
    /// rebuild reads. Partial files and probes are not manifests.
    pub async fn list_manifests(&self) -> Result<Vec<String>, String> {
        const SUFFIX: &str = ".manifest.json";
        let base = self.full_key("");
        let base = base.trim_end_matches('/').to_string();
        let relative = |full: &str| -> String {
            full.strip_prefix(&base)
                .unwrap_or(full)
                .trim_start_matches('/')
                .to_string()
        };
        let mut keys = match &self.kind {
            TargetKind::Local { root, .. } => {
                let start = if base.is_empty() {
                    root.clone()
                } else {
                    Self::local_path(root, &base)
                };
                let root = root.clone();
                tokio::task::spawn_blocking(move || {
                    let mut found = Vec::new();
                    let mut dirs = vec![start];
                    while let Some(dir) = dirs.pop() {
                        let entries = match std::fs::read_dir(&dir) {
                            Ok(e) => e,
                            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                            Err(e) => return Err(format!("listing {}: {e}", dir.display())),
                        };
                        for entry in entries.flatten() {
                            let path = entry.path();
                            // Not through symlinks: a destination lists what it holds.
                            let Ok(kind) = entry.file_type() else {
                                continue;
                            };
                            if kind.is_dir() {
                                dirs.push(path);
                            } else if kind.is_file()
                                && let Ok(rel) = path.strip_prefix(&root)
                            {
                                let rel = rel.to_string_lossy().replace('\\', "/");
                                if rel.ends_with(SUFFIX)
                                    && !rel.rsplit('/').next().unwrap_or("").starts_with('.')
                                {
                                    found.push(rel);
                                }
                            }
                        }
                    }
                    Ok(found)
                })
                .await
                .map_err(|e| e.to_string())??
                .into_iter()
                .map(|k| relative(&k))
                .collect::<Vec<_>>()
            }
            TargetKind::Object { store, .. } => {
                let prefix = (!base.is_empty()).then(|| ObjectPath::from(base.as_str()));
                let mut list = store.list(prefix.as_ref());
                let mut found = Vec::new();
                while let Some(item) = list.next().await {
                    let meta = item.map_err(|e| e.to_string())?;
                    let key = meta.location.to_string();
                    if key.ends_with(SUFFIX) {
                        found.push(relative(&key));
                    }
                }
                found
            }
        };
        keys.sort();
        Ok(keys)
    }

    /// The size of a stored object.
    pub async fn size_of(&self, key: &str) -> Result<u64, String> {
        let key = self.full_key(key);
        match &self.kind {
            TargetKind::Local { root, .. } => tokio::fs::metadata(Self::local_path(root, &key))
                .await
                .map(|m| m.len())
                .map_err(|e| e.to_string()),
            TargetKind::Object { store, .. } => store
                .head(&ObjectPath::from(key.as_str()))
                .await
                .map(|m| m.size)
                .map_err(|e| e.to_string()),
        }
    }

    /// Reads a whole object (for probes, manifests and tests; backups are streamed instead).
    pub async fn get_all(&self, key: &str) -> Result<Bytes, String> {
        let key = self.full_key(key);
        let key = key.as_str();
        match &self.kind {
            TargetKind::Local { root, .. } => tokio::fs::read(Self::local_path(root, key))
                .await
                .map(Bytes::from)
                .map_err(|e| e.to_string()),
            TargetKind::Object { store, .. } => {
                let r = store
                    .get(&ObjectPath::from(key))
                    .await
                    .map_err(|e| e.to_string())?;
                r.bytes().await.map_err(|e| e.to_string())
            }
        }
    }

    /// Streams an object in chunks.
    /// Where `key` lies on a local destination, for a client that reads the stored file itself;
    /// `None` on an object store.
    pub fn local_file(&self, key: &str) -> Option<PathBuf> {
        match &self.kind {
            TargetKind::Local { root, .. } => Some(Self::local_path(root, &self.full_key(key))),
            TargetKind::Object { .. } => None,
        }
    }

    pub async fn stream(
        &self,
        key: &str,
    ) -> Result<futures::stream::BoxStream<'static, Result<Bytes, String>>, String> {
        let key = self.full_key(key);
        let key = key.as_str();
        match &self.kind {
            TargetKind::Local { root, .. } => {
                let f = tokio::fs::File::open(Self::local_path(root, key))
                    .await
                    .map_err(|e| e.to_string())?;
                let s = tokio_util::io::ReaderStream::new(f).map(|r| r.map_err(|e| e.to_string()));
                Ok(s.boxed())
            }
            TargetKind::Object { store, .. } => {
                let r = store
                    .get(&ObjectPath::from(key))
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(r.into_stream()
                    .map(|r| r.map_err(|e| e.to_string()))
                    .boxed())
            }
        }
    }

    /// Deletes an object; a missing object is not an error (deleting is idempotent).
    /// Deletes what lies directly below the prefix (not in folders) under a name starting with
    /// `name_prefix` and last written more than `age` ago: what a process killed between writing and
    /// deleting such an object (a probe) left behind. Returns how many were deleted.
    pub async fn remove_stale(
        &self,
        name_prefix: &str,
        age: std::time::Duration,
    ) -> Result<usize, String> {
        let cutoff = std::time::SystemTime::now() - age;
        let dir = self.full_key("");
        let mut stale = Vec::new();
        match &self.kind {
            TargetKind::Local { root, .. } => {
                let mut entries = match tokio::fs::read_dir(Self::local_path(root, &dir)).await {
                    Ok(e) => e,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
                    Err(e) => return Err(e.to_string()),
                };
                while let Some(entry) = entries.next_entry().await.map_err(|e| e.to_string())? {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let old = entry
                        .metadata()
                        .await
                        .and_then(|m| m.modified())
                        .is_ok_and(|t| t < cutoff);
                    if name.starts_with(name_prefix) && old {
                        stale.push(name);
                    }
                }
            }
            TargetKind::Object { store, .. } => {
                let prefix = ObjectPath::from(dir.trim_end_matches('/'));
                let listed =
                    tokio::time::timeout(CLEANUP_TIMEOUT, store.list_with_delimiter(Some(&prefix)))
                        .await
                        .map_err(|_| format!("no answer within {CLEANUP_TIMEOUT:?}"))?
                        .map_err(|e| e.to_string())?;
                let cutoff: chrono::DateTime<chrono::Utc> = cutoff.into();
                for o in listed.objects {
                    if let Some(name) = o.location.filename()
                        && name.starts_with(name_prefix)
                        && o.last_modified < cutoff
                    {
                        stale.push(name.to_string());
                    }
                }
            }
        }
        for name in &stale {
            self.delete(name).await?;
        }
        Ok(stale.len())
    }

    pub async fn delete(&self, key: &str) -> Result<(), String> {
        let key = self.full_key(key);
        let key = key.as_str();
        match &self.kind {
            TargetKind::Local { root, .. } => {
                match tokio::fs::remove_file(Self::local_path(root, key)).await {
                    Ok(()) => Ok(()),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                    Err(e) => Err(e.to_string()),
                }
            }
            TargetKind::Object { store, .. } => {
                match tokio::time::timeout(CLEANUP_TIMEOUT, store.delete(&ObjectPath::from(key)))
                    .await
                {
                    Ok(Ok(())) | Ok(Err(object_store::Error::NotFound { .. })) => Ok(()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err(format!("no answer within {CLEANUP_TIMEOUT:?}")),
                }
            }
        }
    }

    /// Removes what an interrupted upload may have left under `key`: the final object and, for local
    /// directories, the temporary `.name.partial` file.
    pub async fn cleanup_partial(&self, key: &str) -> Result<(), String> {
        if let TargetKind::Local { root, .. } = &self.kind {
            let path = Self::local_path(root, &self.full_key(key));
            if let (Some(dir), Some(name)) = (path.parent(), path.file_name()) {
                let tmp = dir.join(format!(".{}.partial", name.to_string_lossy()));
                match tokio::fs::remove_file(&tmp).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e.to_string()),
                }
            }
        }
        self.delete(key).await
    }

    /// Writes, reads back and deletes a probe object: the destination works end to end. A probe that
    /// fails after its write still deletes what it wrote (best effort; the caller may retry the delete).
    pub async fn probe(&self, key: &str) -> Result<(), String> {
        let payload = Bytes::from(format!("pgward probe {key}"));
        self.put_small(key, payload.clone())
            .await
            .map_err(|e| format!("write failed: {e}"))?;
        let back = match self.get_all(key).await {
            Ok(b) => b,
            Err(e) => {
                let _ = self.delete(key).await;
                return Err(format!("read-back failed: {e}"));
            }
        };
        if back != payload {
            let _ = self.delete(key).await;
            return Err("read-back returned different bytes".into());
        }
        self.delete(key)
            .await
            .map_err(|e| format!("delete failed: {e}"))
    }
}

/// A store's refusal of a write in an operator's words: which bucket, what is wrong, what to do. The
/// store's own answer (often an XML document) is cut down to its code and message.
fn refusal(store: &str, e: &object_store::Error) -> String {
    use object_store::Error as E;
    let what = bucket_of(store);
    match e {
        // S3 and GCS answer a write into a missing bucket with 404.
        E::NotFound { .. } => format!(
            "{what} does not exist, or these credentials cannot see it: create it, or check its name \
             (and the region and endpoint)"
        ),
        E::PermissionDenied { .. } | E::Unauthenticated { .. } => format!(
            "{what} refused these credentials: check the access key and secret, and what they may do \
             in that bucket"
        ),
        other => {
            let text = other.to_string();
            match unreachable_endpoint(&text) {
                Some(url) => format!(
                    "cannot reach the storage endpoint for {what} ({url}): check the endpoint URL and \
                     port, and that pgward's host can connect to it"
                ),
                None => format!("{what}: {}", without_xml(&text)),
            }
        }
    }
}

/// The URL of a request that never got an answer (connection refused, no such host, timeout), from
/// object_store's retry message: `Error performing PUT <url> in ... - HTTP error: error sending request`.
fn unreachable_endpoint(message: &str) -> Option<String> {
    let failed_to_send = [
        "error sending request",
        "Connection refused",
        "dns error",
        "timed out",
    ]
    .iter()
    .any(|m| message.contains(m));
    if !failed_to_send {
        return None;
    }
    let url = message
        .split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))?;
    // Scheme, host and port only: the object's path is pgward's business.
    let origin = url::Url::parse(url)
        .ok()
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|| url.to_string());
    Some(origin)
}

/// `AmazonS3(shop)` → `the bucket "shop"`; `MicrosoftAzure { account: a, container: c }` → `the
/// container "c"`.
fn bucket_of(store: &str) -> String {
    if let Some(c) = store
        .split("container: ")
        .nth(1)
        .map(|c| c.trim_end_matches([' ', '}']))
    {
        return format!("the container \"{c}\"");
    }
    match store.split_once('(') {
        Some((_, b)) => format!("the bucket \"{}\"", b.trim_end_matches(')')),
        None => format!("the store {store}"),
    }
}

/// A message with an XML answer in it (`...: <?xml ...><Error><Code>C</Code><Message>M</Message>...`):
/// the text before it and `C: M`.
fn without_xml(message: &str) -> String {
    let Some(i) = message.find("<?xml").or_else(|| message.find("<Error>")) else {
        return message.to_string();
    };
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let start = message[i..].find(&open)? + i + open.len();
        let end = message[start..].find(&format!("</{name}>"))? + start;
        Some(message[start..end].to_string())
    };
    let head = message[..i].trim_end().trim_end_matches(':');
    match (tag("Code"), tag("Message")) {
        (Some(c), Some(m)) => format!("{head}: {c}: {m}"),
        (Some(c), None) => format!("{head}: {c}"),
        _ => head.to_string(),
    }
}

#[cfg(test)]
mod refusal_tests {
    use super::*;

    #[test]
    fn a_stores_refusal_names_the_bucket_and_drops_the_xml() {
        let xml = "Error performing PUT http://s3/x in 1ms - Server returned non-2xx status code: \
                   400 Bad Request: <?xml version=\"1.0\"?><Error><Code>InvalidBucketName</Code>\
                   <Message>The specified bucket is not valid.</Message></Error>";
        assert_eq!(
            without_xml(xml),
            "Error performing PUT http://s3/x in 1ms - Server returned non-2xx status code: 400 Bad \
             Request: InvalidBucketName: The specified bucket is not valid."
        );
        assert_eq!(without_xml("plain"), "plain");
        assert_eq!(bucket_of("AmazonS3(shop)"), "the bucket \"shop\"");
        assert_eq!(
            bucket_of("MicrosoftAzure { account: acct, container: backups }"),
            "the container \"backups\""
        );
    }

    #[test]
    fn an_endpoint_that_does_not_answer_is_named_with_what_to_check() {
        let e = object_store::Error::Generic {
            store: "S3",
            source: "Error performing PUT http://127.0.0.1:9/b/.pgward-probe-1 in 1.02s, after 5 \
                     retries, max_retries: 5, retry_timeout: 60s  - HTTP error: error sending request"
                .into(),
        };
        let m = refusal("AmazonS3(b)", &e);
        assert_eq!(
            m,
            "cannot reach the storage endpoint for the bucket \"b\" (http://127.0.0.1:9): check the \
             endpoint URL and port, and that pgward's host can connect to it"
        );
        assert_eq!(unreachable_endpoint("403 Forbidden"), None);
    }
}
