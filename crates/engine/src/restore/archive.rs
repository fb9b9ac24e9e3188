//! Directory-format archives are tar files from someone who may be hostile: every entry is checked
//! before it is written (plain files and directories only, nothing outside the archive).

use super::*;

/// Whether a tar entry may be unpacked: only plain files and directories, with a relative name that
/// stays below the archive's root. A symlink or hard link would let pg_restore read any host file into
/// the target database; a device or FIFO could block or read the machine.
pub(super) fn check_entry(entry: &tar::Entry<'_, impl Read>) -> Result<PathBuf, String> {
    use std::path::Component;
    let path = entry
        .path()
        .map_err(|e| format!("an entry name is not valid: {e}"))?
        .into_owned();
    let kind = entry.header().entry_type();
    if !(kind.is_file() || kind.is_dir() || kind == tar::EntryType::Continuous) {
        return Err(format!(
            "entry {} is a {:?}; only plain files and directories are accepted",
            path.display(),
            kind
        ));
    }
    if path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "entry {} is absolute or leaves the archive (..)",
            path.display()
        ));
    }
    Ok(path)
}

/// Unpacks a directory archive entry by entry, refusing (before anything reaches pg_restore) what
/// `check_entry` refuses. The checksum is judged separately: if it holds, a failed write is local (disk
/// full, permissions), not a corrupt backup.
pub(super) fn unpack_checked(
    archive: &mut tar::Archive<impl Read>,
    dest: &Path,
) -> Result<(), Failure> {
    std::fs::create_dir_all(dest).map_err(|e| Failure::Write(format!("unpacking: {e}")))?;
    let entries = archive
        .entries()
        .map_err(|e| Failure::Decode(format!("reading the archive: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| Failure::Decode(format!("reading the archive: {e}")))?;
        check_entry(&entry).map_err(Failure::Unsafe)?;
        entry
            .unpack_in(dest)
            .map_err(|e| Failure::Write(format!("unpacking: {e}")))?;
    }
    check_toc_names(&dest.join("dump")).map_err(Failure::Unsafe)
}

/// pg_restore opens every data file by the name the TOC gives: each must be a plain name inside the
/// archive directory (see `toc`).
pub(super) fn check_toc_names(dir: &Path) -> Result<(), String> {
    let Ok(toc) = std::fs::read(dir.join("toc.dat")) else {
        // No TOC: pg_restore refuses the archive itself.
        return Ok(());
    };
    let mut names = crate::toc::data_files(&toc)?;
    for e in std::fs::read_dir(dir).map_err(|e| e.to_string())?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("blobs") && name.ends_with(".toc") {
            let text = std::fs::read_to_string(e.path()).map_err(|e| e.to_string())?;
            names.extend(crate::toc::blob_files(&text));
        }
    }
    match names.iter().find(|n| !crate::toc::is_plain_name(n)) {
        Some(bad) => Err(format!(
            "the table of contents names the data file {bad:?}, outside the archive"
        )),
        None => Ok(()),
    }
}
