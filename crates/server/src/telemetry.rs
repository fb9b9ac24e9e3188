//! Logging. Built once by the binary; the library never installs a global subscriber itself.

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogConfig;

/// Installs the global subscriber. `RUST_LOG` overrides the configured level.
pub fn init<W>(cfg: &LogConfig, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&cfg.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let result = if cfg.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = result;
}
