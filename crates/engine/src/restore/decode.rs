//! Decoding a stored object: sha256 and byte count of what is read, age decryption, decompression, the
//! held-back tail that keeps a client from finishing before the object is verified.

use super::*;

/// Decoded bytes held back from the client until the object is verified. Larger than any read psql or
/// pg_restore needs to finish a statement, so neither can reach its end (and commit) early.
pub(super) const HOLD_BACK: usize = 256 * 1024;

pub(super) fn parse_identities(raw: &[String]) -> Result<Vec<age::x25519::Identity>, RestoreError> {
    raw.iter()
        .map(|s| {
            age::x25519::Identity::from_str(s.trim()).map_err(|_| {
                // Never echo the value: it is a secret key.
                RestoreError::Invalid(
                    "an identity is not an age secret key (AGE-SECRET-KEY-1...)".into(),
                )
            })
        })
        .collect()
}

pub(super) enum Failure {
    Decrypt(String),
    Decode(String),
    /// A tar entry that is not a plain file or directory, or that points outside the archive.
    Unsafe(String),
    /// The decoded stream went past its limit.
    Limit(u64),
    /// Writing to the client or the scratch space failed (the client quit early, disk full...).
    Write(String),
}

pub(super) struct Decoded {
    pub(super) failure: Option<Failure>,
    pub(super) held: Option<HoldBack>,
}

/// raw -> age (if encrypted) -> decompression.
pub(super) fn decoder(
    raw: impl Read + Send + 'static,
    compression: Compression,
    encrypted: bool,
    identities: &[age::x25519::Identity],
) -> Result<Box<dyn Read + Send>, Failure> {
    let plain: Box<dyn Read + Send> = if encrypted {
        let d = age::Decryptor::new(raw)
            .map_err(|e| Failure::Decrypt(format!("not an age file: {e}")))?;
        match d.decrypt(identities.iter().map(|i| i as &dyn age::Identity)) {
            Ok(r) => Box::new(r),
            Err(age::DecryptError::NoMatchingKeys) => {
                return Err(Failure::Decrypt(
                    "none of the given identities can open this backup".into(),
                ));
            }
            Err(e) => return Err(Failure::Decrypt(e.to_string())),
        }
    } else {
        Box::new(raw)
    };
    Ok(match compression {
        Compression::None => plain,
        Compression::Zstd { .. } => Box::new(
            zstd::stream::read::Decoder::new(plain).map_err(|e| Failure::Decode(e.to_string()))?,
        ),
        Compression::Gzip { .. } => Box::new(flate2::read::MultiGzDecoder::new(plain)),
        Compression::Lz4 => Box::new(lz4_flex::frame::FrameDecoder::new(plain)),
    })
}

/// Runs on a blocking thread: raw -> age -> decompression -> stdin (held back) / file / unpacked tar.
/// What the stored object is and how to read it.
pub(super) struct Layout {
    pub(super) format: DumpFormat,
    pub(super) compression: Compression,
    pub(super) encrypted: bool,
    pub(super) identities: Vec<age::x25519::Identity>,
    /// Globals only: the role whose statements are skipped.
    pub(super) skip_role: Option<String>,
    /// Most decoded bytes accepted.
    pub(super) limit: Option<u64>,
}

pub(super) fn decode_into(
    raw: Shared,
    layout: Layout,
    stdin: Option<std::fs::File>,
    out_path: Option<PathBuf>,
) -> Decoded {
    let Layout {
        format,
        compression,
        encrypted,
        identities,
        skip_role,
        limit,
    } = layout;
    let fail = |f| Decoded {
        failure: Some(f),
        held: None,
    };
    // The client's stdin must stay open on every failure until the client is killed: closing it would
    // be the end of input, and psql would commit a single-transaction restore of a partial stream.
    let mut stdin = stdin.map(|inner| HoldBack {
        inner,
        buf: Vec::with_capacity(2 * HOLD_BACK),
    });
    let fail_held = |f, held: Option<HoldBack>| Decoded {
        failure: Some(f),
        held,
    };
    let mut decoded = match decoder(raw, compression, encrypted, &identities) {
        Ok(d) => d,
        Err(f) => return fail_held(f, stdin.take()),
    };
    if let Some(max) = limit {
        decoded = Box::new(Limited {
            inner: decoded,
            left: max,
            max,
        });
    }
    if let Some(role) = skip_role {
        decoded = Box::new(SkipRole::new(decoded, &role));
    }
    if format == DumpFormat::Plain {
        decoded = Box::new(crate::pg::restrict::Restricted::new(
            decoded,
            &crate::pg::restrict::new_key(),
        ));
    }
    // Reading errors are the stream's (decryption or decompression); writing errors the output's.
    let classify = |e: &io::Error| {
        let m = e.to_string();
        if let Some(n) = m
            .strip_prefix(LIMIT_ERROR)
            .and_then(|n| n.trim().parse().ok())
        {
            Failure::Limit(n)
        } else if encrypted && (m.contains("decrypt") || m.contains("age") || m.contains("MAC")) {
            Failure::Decrypt(m)
        } else {
            Failure::Decode(m)
        }
    };
    match (stdin, out_path) {
        (Some(mut hold), _) => match copy_split(&mut decoded, &mut hold) {
            Ok(()) => Decoded {
                failure: None,
                held: Some(hold),
            },
            Err(Side::Read(e)) => fail_held(classify(&e), Some(hold)),
            Err(Side::Write(e)) => fail_held(Failure::Write(e.to_string()), Some(hold)),
        },
        (None, Some(path)) if format == DumpFormat::Directory => {
            let mut archive = tar::Archive::new(ReadSide(&mut decoded));
            match unpack_checked(&mut archive, &path) {
                Ok(()) => Decoded {
                    failure: None,
                    held: None,
                },
                Err(f) => fail(f),
            }
        }
        (None, Some(path)) => {
            let file = std::fs::File::create(&path).map(io::BufWriter::new);
            let mut file = match file {
                Ok(f) => f,
                Err(e) => return fail(Failure::Write(e.to_string())),
            };
            match copy_split(&mut decoded, &mut file).and_then(|_| {
                file.into_inner()
                    .map_err(|e| Side::Write(e.into_error()))?
                    .sync_all()
                    .map_err(Side::Write)
            }) {
                Ok(()) => Decoded {
                    failure: None,
                    held: None,
                },
                Err(Side::Read(e)) => fail(classify(&e)),
                Err(Side::Write(e)) => fail(Failure::Write(e.to_string())),
            }
        }
        // Verification only: the client reads the stored file itself (see `Mode::InPlace`).
        (None, None) => match copy_split(&mut decoded, &mut io::sink()) {
            Ok(()) => Decoded {
                failure: None,
                held: None,
            },
            Err(Side::Read(e)) => fail(classify(&e)),
            Err(Side::Write(e)) => fail(Failure::Write(e.to_string())),
        },
    }
}

pub(super) enum Side {
    Read(io::Error),
    Write(io::Error),
}

/// How a `Limited` read error starts (the limit follows), so the decoder can tell it from corruption.
pub(super) const LIMIT_ERROR: &str = "decompression limit reached:";

/// Passes at most `max` bytes, then fails: what a decompressor may produce from one object.
pub(super) struct Limited {
    pub(super) inner: Box<dyn Read + Send>,
    pub(super) left: u64,
    pub(super) max: u64,
}

impl Read for Limited {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            // One byte more than allowed means the stream is too long; exactly `max` is fine.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(format!("{LIMIT_ERROR} {}", self.max))),
            };
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// `io::copy` that says which side failed.
pub(super) fn copy_split(r: &mut dyn Read, w: &mut dyn Write) -> Result<(), Side> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => return w.flush().map_err(Side::Write),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Side::Read(e)),
        };
        w.write_all(&buf[..n]).map_err(Side::Write)?;
    }
}

pub(super) struct ReadSide<'a>(pub(super) &'a mut Box<dyn Read + Send>);

impl Read for ReadSide<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

/// Passes bytes through to the client except the newest `HOLD_BACK`, released by `release`.
pub(super) struct HoldBack {
    pub(super) inner: std::fs::File,
    pub(super) buf: Vec<u8>,
}

impl HoldBack {
    /// Writes the held tail and closes the client's stdin (end of input).
    pub(super) fn release(mut self) -> io::Result<()> {
        self.inner.write_all(&self.buf)?;
        self.inner.flush()
    }
}

impl Write for HoldBack {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 2 * HOLD_BACK {
            let out = self.buf.len() - HOLD_BACK;
            self.inner.write_all(&self.buf[..out])?;
            self.buf.drain(..out);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The object as it arrives: hashed and counted on the way through.
pub(super) struct Raw {
    pub(super) rx: mpsc::Receiver<Result<Bytes, String>>,
    pub(super) cur: Bytes,
    pub(super) hasher: Sha256,
    pub(super) count: u64,
    pub(super) progress: Arc<AtomicU64>,
    pub(super) source_error: Option<String>,
    pub(super) stop: Arc<AtomicBool>,
}

impl Raw {
    pub(super) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(io::Error::other("stopped"));
        }
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.cur = b,
                Some(Err(e)) => {
                    self.source_error = Some(e.clone());
                    return Err(io::Error::other(format!("reading the backup: {e}")));
                }
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        let chunk = self.cur.split_to(n);
        buf[..n].copy_from_slice(&chunk);
        self.hasher.update(&chunk);
        self.count += n as u64;
        self.progress.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    /// Reads the rest of the object (hashing it), so the checksum covers every byte.
    pub(super) fn drain(&mut self) {
        let mut scratch = vec![0u8; 64 * 1024];
        while let Ok(n) = self.read(&mut scratch) {
            if n == 0 {
                break;
            }
        }
    }
}

#[derive(Clone)]
pub(super) struct Shared(pub(super) Arc<Mutex<Raw>>);

impl Read for Shared {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .read(buf)
    }
}

/// Drops the `CREATE ROLE <role>;` and `ALTER ROLE <role> ...;` lines of a globals file (one statement
/// per line, as pg_dumpall writes them).
pub(super) struct SkipRole {
    pub(super) inner: io::BufReader<Box<dyn Read + Send>>,
    pub(super) prefixes: [String; 4],
    pub(super) line: Vec<u8>,
    pub(super) pos: usize,
}

impl SkipRole {
    pub(super) fn new(inner: Box<dyn Read + Send>, role: &str) -> Self {
        let quoted = format!("\"{}\"", role.replace('"', "\"\""));
        Self {
            inner: io::BufReader::new(inner),
            prefixes: [
                format!("CREATE ROLE {role};"),
                format!("ALTER ROLE {role} "),
                format!("CREATE ROLE {quoted};"),
                format!("ALTER ROLE {quoted} "),
            ],
            line: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for SkipRole {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use std::io::BufRead;
        while self.pos >= self.line.len() {
            self.line.clear();
            self.pos = 0;
            if self.inner.read_until(b'\n', &mut self.line)? == 0 {
                return Ok(0);
            }
            let skip = self
                .prefixes
                .iter()
                .any(|p| self.line.starts_with(p.as_bytes()));
            if skip {
                self.line.clear();
            }
        }
        let n = buf.len().min(self.line.len() - self.pos);
        buf[..n].copy_from_slice(&self.line[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
