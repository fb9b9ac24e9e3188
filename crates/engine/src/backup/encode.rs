//! The synchronous encoder chain run on a blocking thread: compression, then encryption, then the sink
//! that hashes, counts and hands fixed-size chunks to the destination uploaders.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Bytes, BytesMut};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::options::Compression;
use super::target::Chunk;

/// Hashes and counts the final bytes and fans them out, in chunks, to every destination's channel.
pub struct Sink {
    hasher: Sha256,
    written: Arc<AtomicU64>,
    buf: BytesMut,
    chunk: usize,
    outputs: Vec<mpsc::Sender<Chunk>>,
}

impl Sink {
    pub fn new(outputs: Vec<mpsc::Sender<Chunk>>, chunk: usize, written: Arc<AtomicU64>) -> Self {
        Self {
            hasher: Sha256::new(),
            written,
            buf: BytesMut::with_capacity(chunk),
            chunk,
            outputs,
        }
    }

    fn ship(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let bytes: Bytes = self.buf.split().freeze();
        for out in &self.outputs {
            // Blocking send: a slow destination slows the dump down instead of growing memory.
            out.blocking_send(Chunk::Data(bytes.clone())).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "a destination stopped accepting data",
                )
            })?;
        }
        Ok(())
    }

    /// Flushes the last chunk and returns the sha256 (hex) of everything written.
    pub fn finish(mut self) -> io::Result<String> {
        self.ship()?;
        Ok(hex::encode(self.hasher.finalize()))
    }
}

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.hasher.update(data);
        self.written.fetch_add(data.len() as u64, Ordering::Relaxed);
        self.buf.extend_from_slice(data);
        if self.buf.len() >= self.chunk {
            self.ship()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Optional age encryption to the task's recipients (public keys only: pgward cannot decrypt).
pub enum Encrypt {
    Plain(Sink),
    Age(age::stream::StreamWriter<Sink>),
}

impl Encrypt {
    pub fn new(sink: Sink, recipients: &[age::x25519::Recipient]) -> io::Result<Self> {
        if recipients.is_empty() {
            return Ok(Self::Plain(sink));
        }
        let encryptor =
            age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))
                .map_err(|e| io::Error::other(e.to_string()))?;
        Ok(Self::Age(encryptor.wrap_output(sink)?))
    }

    pub fn finish(self) -> io::Result<Sink> {
        match self {
            Self::Plain(s) => Ok(s),
            Self::Age(w) => w.finish(),
        }
    }
}

impl Write for Encrypt {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(s) => s.write(data),
            Self::Age(w) => w.write(data),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(s) => s.flush(),
            Self::Age(w) => w.flush(),
        }
    }
}

/// The compressor in front of everything.
pub enum Compress {
    None(Encrypt),
    Zstd(zstd::stream::write::Encoder<'static, Encrypt>),
    Gzip(flate2::write::GzEncoder<Encrypt>),
    Lz4(lz4_flex::frame::FrameEncoder<Encrypt>),
}

impl Compress {
    pub fn new(inner: Encrypt, c: Compression, zstd_workers: u32) -> io::Result<Self> {
        Ok(match c {
            Compression::None => Self::None(inner),
            Compression::Zstd { level } => {
                let mut e = zstd::stream::write::Encoder::new(inner, level)?;
                // zstd's own worker threads keep compression off the pg_dump reader's critical path.
                if zstd_workers > 0 {
                    e.multithread(zstd_workers)?;
                }
                Self::Zstd(e)
            }
            Compression::Gzip { level } => Self::Gzip(flate2::write::GzEncoder::new(
                inner,
                flate2::Compression::new(level),
            )),
            Compression::Lz4 => Self::Lz4(lz4_flex::frame::FrameEncoder::new(inner)),
        })
    }

    pub fn finish(self) -> io::Result<Encrypt> {
        match self {
            Self::None(e) => Ok(e),
            Self::Zstd(z) => z.finish(),
            Self::Gzip(g) => g.finish(),
            Self::Lz4(l) => l.finish().map_err(io::Error::other),
        }
    }
}

impl Write for Compress {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Self::None(w) => w.write(data),
            Self::Zstd(w) => w.write(data),
            Self::Gzip(w) => w.write(data),
            Self::Lz4(w) => w.write(data),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::None(w) => w.flush(),
            Self::Zstd(w) => w.flush(),
            Self::Gzip(w) => w.flush(),
            Self::Lz4(w) => w.flush(),
        }
    }
}
