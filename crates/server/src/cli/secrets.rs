//! `pgward secrets rotate-key`: every stored secret (connection strings, destination credentials,
//! webhook URLs, header values and signing secrets) sealed again under a new key, in one transaction:
//! either all of them move to the new key or none does.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use anyhow::Context;
use sea_orm::{ConnectionTrait, TransactionTrait};

use crate::catalog;
use crate::config::Config;
use crate::crypto::MasterKey;
use crate::features::{databases, destinations, webhooks};
use crate::startup::Catalog;

/// What a rotation did.
pub struct Rotated {
    pub new_key: MasterKey,
    pub resealed: usize,
    /// The key file replaced, when the key came from `<data_dir>/secret.key`.
    pub key_file: Option<std::path::PathBuf>,
}

pub async fn rotate_key(
    config: &Config,
    installs: &pgward_engine::pg::PgInstalls,
) -> anyhow::Result<Rotated> {
    let old = crate::startup::master_key(config)?;
    let key_file = config
        .secrets
        .key
        .is_none()
        .then(|| config.data_dir.join("secret.key"));
    let new = MasterKey::generate();
    let catalog = Catalog::open(config, installs).await?;
    let result = async {
        catalog::migrate(&catalog.db).await?;
        let (from, to) = (old.cipher(), new.cipher());
        let tx = catalog.db.begin().await?;
        // Nobody adds or edits a secret meanwhile (it would stay under the old key, or be overwritten).
        tx.execute_unprepared(
            "LOCK TABLE databases, destinations, webhooks IN SHARE ROW EXCLUSIVE MODE",
        )
        .await?;
        let mut n = databases::service::reseal_all(&tx, &from, &to).await?;
        n += destinations::service::reseal_all(&tx, &from, &to).await?;
        n += webhooks::service::reseal_all(&tx, &from, &to).await?;
        // The new key is on disk before the catalog depends on it; it replaces the old file after.
        let staged = match &key_file {
            Some(path) => {
                let staged = path.with_extension("key.new");
                let _ = std::fs::remove_file(&staged);
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&staged)
                    .with_context(|| format!("writing {}", staged.display()))?;
                f.write_all(new.to_base64().as_bytes())?;
                f.sync_all()?;
                Some((staged, path.clone()))
            }
            None => None,
        };
        tx.commit().await?;
        if let Some((staged, path)) = staged {
            std::fs::rename(&staged, &path).with_context(|| {
                format!(
                    "the catalog uses the new key, which is in {}: move it to {}",
                    staged.display(),
                    path.display()
                )
            })?;
        }
        anyhow::Ok(n)
    }
    .await;
    catalog.close().await;
    Ok(Rotated {
        new_key: new,
        resealed: result?,
        key_file,
    })
}
