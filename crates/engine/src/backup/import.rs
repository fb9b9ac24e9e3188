//! Storing a dump that arrives from outside (an upload): streamed into a target while hashed and
//! counted, all or nothing.

use bytes::Bytes;
use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::target::{Chunk, Target};

#[derive(Debug, Clone)]
pub struct Imported {
    /// The object's key on the target (prefix included).
    pub key: String,
    pub size: u64,
    pub sha256: String,
}

/// Why an upload was not stored. `E` is what the body stream failed with (the caller's own reasons,
/// e.g. a size limit, stay typed through the import).
#[derive(Debug, Clone, thiserror::Error)]
pub enum ImportError<E: std::fmt::Display> {
    #[error("the upload broke off: {0}")]
    BrokeOff(E),
    #[error("the upload is empty")]
    Empty,
    #[error("stored {stored} bytes of {sent}")]
    Short { stored: u64, sent: u64 },
    /// The target failed.
    #[error("{0}")]
    Store(String),
}

/// Streams `body` into `key` on `target`. Memory is bounded by the upload's part buffers whatever the
/// size. On any error (the body broke off, the target failed) nothing stays at `key`.
pub async fn import_stream<S, E>(
    target: &Target,
    key: &str,
    body: S,
    part_size: usize,
) -> Result<Imported, ImportError<E>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let (tx, rx) = mpsc::channel::<Chunk>(4);
    let upload = {
        let (t, key) = (target.clone(), key.to_string());
        tokio::spawn(async move { t.upload(&key, rx, part_size, None).await })
    };
    let mut body = body;
    let (mut hasher, mut size) = (Sha256::new(), 0u64);
    let mut failure = None;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(b) => {
                hasher.update(&b);
                size += b.len() as u64;
                if tx.send(Chunk::Data(b)).await.is_err() {
                    // The uploader stopped: its own error says why.
                    break;
                }
            }
            Err(e) => {
                failure = Some(ImportError::BrokeOff(e));
                break;
            }
        }
    }
    if failure.is_none() && size == 0 {
        failure = Some(ImportError::Empty);
    }
    if failure.is_none() {
        let _ = tx.send(Chunk::Finish).await;
    }
    // Without `Finish`, a closed channel aborts the upload.
    drop(tx);
    let stored = upload
        .await
        .map_err(|e| format!("upload task: {e}"))
        .and_then(|r| r)
        .map_err(ImportError::Store);
    match (failure, stored) {
        (None, Ok(n)) if n == size => Ok(Imported {
            key: target.full_key(key),
            size,
            sha256: hex::encode(hasher.finalize()),
        }),
        (None, Ok(n)) => {
            let _ = target.delete(key).await;
            Err(ImportError::Short {
                stored: n,
                sent: size,
            })
        }
        (Some(f), _) => {
            let _ = target.delete(key).await;
            Err(f)
        }
        (None, Err(e)) => {
            let _ = target.delete(key).await;
            Err(e)
        }
    }
}
