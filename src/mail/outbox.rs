//! The local outbox: every message becomes `DATA/outbox/<time>-<seq>-<tag>.eml`, openable in
//! any mail client and listed by the local web's outbox page.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use super::{MailError, Mailer, Outgoing};

#[derive(Debug)]
pub struct OutboxMailer {
    dir: PathBuf,
    seq: AtomicU64,
}

impl OutboxMailer {
    pub fn new(dir: impl Into<PathBuf>) -> std::io::Result<OutboxMailer> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(OutboxMailer { dir, seq: AtomicU64::new(0) })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// Writes a mail readable by its owner only (0600): it holds a reader's address and links.
async fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).await?;
    file.write_all(bytes).await?;
    file.flush().await
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, message: Outgoing<'_>) -> Result<String, MailError> {
        let tag: String =
            message.kind.tag().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(60).collect();
        let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S%.6fZ");
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let name = format!("{stamp}-{seq:04}-{tag}.eml");
        // Write then rename, so a reader never sees half a message.
        let tmp = self.dir.join(format!(".{name}.tmp"));
        write_private(&tmp, message.mime).await.map_err(|e| MailError::Transient(format!("{}: {e}", tmp.display())))?;
        tokio::fs::rename(&tmp, self.dir.join(&name)).await.map_err(|e| MailError::Transient(e.to_string()))?;
        Ok(name)
    }
}
