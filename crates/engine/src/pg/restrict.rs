//! Plain dumps are replayed by psql, which would run every backslash meta-command in them (`\!`,
//! `\copy … program`, `\o |`, `\i`, `\getenv` …) on pgward's machine. A dump is input from someone who may
//! be hostile, so psql is put in restricted mode (`\restrict <key>`) before the dump's first byte, with a
//! key pgward generates and never writes anywhere else: psql then refuses every meta-command, and only
//! `\unrestrict <that key>` could lift it. The dump's own `\restrict`/`\unrestrict` lines (current pg_dump
//! releases write them, with their own key) are removed, since psql refuses a second `\restrict`.

use std::io::{self, BufRead, Read};

/// What psql says when restricted mode refuses a meta-command, or a guessed key (stable across 13–18).
pub const REFUSED_MARKERS: &[&str] = &[
    "backslash commands are restricted",
    "\\unrestrict: wrong key",
    // A psql without restricted mode: it must not go on reading the dump.
    "invalid command \\restrict",
];

/// Lines longer than this are passed on in pieces without being looked at: only a whole line that
/// starts with a backslash can be one of the dump's own restrict lines.
const MAX_LINE: usize = 64 * 1024;

pub struct Restricted<R> {
    inner: io::BufReader<R>,
    buf: Vec<u8>,
    pos: usize,
    /// The dump's own key, from its leading `\restrict` line.
    dump_key: Option<Vec<u8>>,
    /// A statement was seen: a `\restrict` line from now on is not the dump's header.
    seen_sql: bool,
    /// The previous piece ended without a newline (a long line continues).
    mid_line: bool,
}

impl<R: Read> Restricted<R> {
    /// `key` must be unguessable (pgward uses 128 random bits).
    pub fn new(inner: R, key: &str) -> Self {
        Self {
            inner: io::BufReader::with_capacity(MAX_LINE, inner),
            buf: format!("\\restrict {key}\n").into_bytes(),
            pos: 0,
            dump_key: None,
            seen_sql: false,
            mid_line: false,
        }
    }

    /// Whether this line is one of the dump's own restrict lines, which are dropped.
    fn is_dumps_own(&mut self, line: &[u8]) -> bool {
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if !self.seen_sql
            && self.dump_key.is_none()
            && let Some(key) = text.strip_prefix(b"\\restrict ")
        {
            self.dump_key = Some(key.trim_ascii().to_vec());
            return true;
        }
        if let Some(own) = &self.dump_key {
            let arg = text
                .strip_prefix(b"\\unrestrict ")
                .or_else(|| text.strip_prefix(b"\\restrict "));
            if arg.is_some_and(|a| a.trim_ascii() == own.as_slice()) {
                return true;
            }
        }
        let t = text.trim_ascii();
        if !t.is_empty() && !t.starts_with(b"--") {
            self.seen_sql = true;
        }
        false
    }

    fn fill(&mut self) -> io::Result<bool> {
        loop {
            self.buf.clear();
            self.pos = 0;
            let n = (&mut self.inner)
                .take(MAX_LINE as u64)
                .read_until(b'\n', &mut self.buf)?;
            if n == 0 {
                return Ok(false);
            }
            let whole_line = !self.mid_line && self.buf.ends_with(b"\n");
            let starts_line = !self.mid_line;
            self.mid_line = !self.buf.ends_with(b"\n");
            if starts_line && !whole_line {
                // The start of a very long line: a statement or data, never a restrict line.
                self.seen_sql = true;
                return Ok(true);
            }
            if whole_line {
                let line = std::mem::take(&mut self.buf);
                let drop = self.is_dumps_own(&line);
                self.buf = line;
                if drop {
                    continue;
                }
            }
            return Ok(true);
        }
    }
}

impl<R: Read> Read for Restricted<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.buf.len() && !self.fill()? {
            return Ok(0);
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A fresh key for one psql run: 128 random bits in hex.
pub fn new_key() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filtered(input: &str) -> String {
        let mut out = String::new();
        Restricted::new(input.as_bytes(), "K1")
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn puts_psql_in_restricted_mode_and_drops_the_dumps_own_key() {
        let dump = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abc\n\nSET x = 1;\n\
                    CREATE TABLE t ();\n\\unrestrict abc\n";
        assert_eq!(
            filtered(dump),
            "\\restrict K1\n--\n-- PostgreSQL database dump\n--\n\n\nSET x = 1;\nCREATE TABLE t ();\n"
        );
    }

    #[test]
    fn keeps_every_other_meta_command_for_psql_to_refuse() {
        let dump = "SET x = 1;\n\\restrict late\n\\! touch /tmp/x\n\\unrestrict late\n\\unrestrict guess\n";
        let out = filtered(dump);
        assert!(out.contains("\\restrict late\n"), "{out}");
        assert!(out.contains("\\! touch /tmp/x\n"), "{out}");
        // A guess at pgward's key stays in the stream: psql refuses a wrong key.
        assert!(out.contains("\\unrestrict guess\n"), "{out}");
    }

    #[test]
    fn passes_long_lines_through_untouched() {
        let long = "x".repeat(MAX_LINE * 2 + 7);
        let dump = format!("COPY t FROM stdin;\n{long}\n\\.\n");
        assert_eq!(filtered(&dump), format!("\\restrict K1\n{dump}"));
    }
}
