//! The file names inside a directory-format archive's `toc.dat` (and its large-object TOCs). pg_restore
//! opens each data file by the name the TOC gives, joined to the archive directory, so a hostile archive
//! could name `../../var/lib/pgward/secret.key` and have pg_restore load that file into a table. pgward
//! reads the TOC the way pg_restore does (`ReadHead`/`ReadToc` of pg_backup_archiver.c) and accepts only
//! plain file names.

/// Archive versions as pg_dump writes them: (major, minor, revision).
const fn version(maj: u32, min: u32, rev: u32) -> u32 {
    (maj * 256 + min) * 256 + rev
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    version: u32,
    int_size: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Result<u8, String> {
        let b = *self
            .data
            .get(self.pos)
            .ok_or("the table of contents ends early")?;
        self.pos += 1;
        Ok(b)
    }

    fn int(&mut self) -> Result<i64, String> {
        let negative = self.version > version(1, 0, 0) && self.byte()? != 0;
        let mut v: i64 = 0;
        for i in 0..self.int_size {
            let b = i64::from(self.byte()?);
            if i < 8 {
                v |= b << (8 * i);
            }
        }
        Ok(if negative { -v } else { v })
    }

    /// A string, or `None` for the NULL pg_dump writes as length -1.
    fn string(&mut self) -> Result<Option<&[u8]>, String> {
        let len = self.int()?;
        if len < 0 {
            return Ok(None);
        }
        let len = usize::try_from(len).map_err(|_| "a string length is out of range")?;
        let end = self
            .pos
            .checked_add(len)
            .filter(|e| *e <= self.data.len())
            .ok_or("a string runs past the end of the table of contents")?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(Some(s))
    }
}

/// The data file names a directory archive's `toc.dat` refers to.
pub fn data_files(toc: &[u8]) -> Result<Vec<String>, String> {
    if !toc.starts_with(b"PGDMP") {
        return Err("toc.dat is not a pg_dump table of contents".into());
    }
    let mut r = Reader {
        data: toc,
        pos: 5,
        version: 0,
        int_size: 4,
    };
    let (maj, min) = (u32::from(r.byte()?), u32::from(r.byte()?));
    let rev = if maj > 1 || (maj == 1 && min > 0) {
        u32::from(r.byte()?)
    } else {
        0
    };
    r.version = version(maj, min, rev);
    if r.version < version(1, 12, 0) || r.version > version(1, 16, 255) {
        return Err(format!(
            "archive version {maj}.{min}.{rev} is not one pgward reads (1.12 to 1.16)"
        ));
    }
    r.int_size = usize::from(r.byte()?);
    if !(1..=8).contains(&r.int_size) {
        return Err("the archive's integer size is out of range".into());
    }
    let _offset_size = r.byte()?;
    let _format = r.byte()?;
    if r.version >= version(1, 15, 0) {
        let _compression = r.byte()?;
    } else {
        let _compression = r.int()?;
    }
    for _ in 0..7 {
        let _time = r.int()?;
    }
    let _dbname = r.string()?;
    let _remote_version = r.string()?;
    let _dump_version = r.string()?;

    let count = r.int()?;
    if !(0..=10_000_000).contains(&count) {
        return Err("the number of entries is out of range".into());
    }
    let mut files = Vec::new();
    for _ in 0..count {
        let _dump_id = r.int()?;
        let _had_dumper = r.int()?;
        let _tableoid = r.string()?;
        let _oid = r.string()?;
        let _tag = r.string()?;
        let _desc = r.string()?;
        let _section = r.int()?;
        let _defn = r.string()?;
        let _drop = r.string()?;
        let _copy = r.string()?;
        let _namespace = r.string()?;
        let _tablespace = r.string()?;
        if r.version >= version(1, 14, 0) {
            let _table_am = r.string()?;
        }
        if r.version >= version(1, 16, 0) {
            let _relkind = r.int()?;
        }
        let _owner = r.string()?;
        let _with_oids = r.string()?;
        while r.string()?.is_some() {}
        // The directory format's extra TOC field: the entry's data file.
        if let Some(name) = r.string()?
            && !name.is_empty()
        {
            files.push(String::from_utf8_lossy(name).into_owned());
        }
    }
    Ok(files)
}

/// Whether a name from a TOC is a plain file name in the archive directory (no path, no `..`).
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\', '\0'])
}

/// The file names a large-object TOC (`blobs.toc`, `blobs_<n>.toc`) refers to: lines of `<oid> <file>`.
pub fn blob_files(toc: &str) -> Vec<String> {
    toc.lines()
        .filter_map(|l| l.split_once(' ').map(|(_, f)| f.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_leave_the_directory_are_not_plain() {
        assert!(is_plain_name("3456.dat"));
        assert!(is_plain_name("blob_16384.dat.gz"));
        for bad in ["../x", "/etc/passwd", "a/b", "..", ".hidden", ""] {
            assert!(!is_plain_name(bad), "{bad}");
        }
        assert_eq!(
            blob_files("16384 blob_16384.dat\n16385 ../../secret.key\n"),
            vec!["blob_16384.dat", "../../secret.key"]
        );
    }

    #[test]
    fn what_is_no_toc_is_refused() {
        assert!(data_files(b"not a toc").is_err());
        assert!(data_files(b"PGDMP\x01\x10\x00\x04").is_err());
    }
}
