//! The backup pipeline: pg_dump -> compression -> optional age encryption -> sha256 and byte count ->
//! every destination at once. Memory is bounded by a few chunk buffers per destination, whatever the size
//! of the database; nothing is written to a temporary file for plain and custom dumps.

mod encode;
pub mod import;
pub mod manifest;
pub mod naming;
pub mod options;
mod run;
pub mod target;
mod whole;

pub use manifest::Manifest;
pub use options::{Compression, DumpFormat, DumpOptions, Placement};
pub use run::{
    DumpError, DumpOutcome, DumpRequest, Progress, TargetOutcome, run_dump, sweep_work_dir,
    work_dir_in,
};
pub use target::{LocalModes, PendingUpload, Target, TargetKind};
pub use whole::{
    BackupError, BackupOutcome, BackupPlan, GlobalsOutcome, Probed, part_size, placement,
    run_backup, run_globals,
};

/// Checks an age recipient (public key, `age1...`).
pub fn validate_recipient(recipient: &str) -> Result<(), String> {
    use std::str::FromStr;
    age::x25519::Recipient::from_str(recipient.trim())
        .map(|_| ())
        .map_err(|e| e.to_string())
}
