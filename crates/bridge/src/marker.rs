//! The on-disk marker of a held Graph call session.
//!
//! The app writes it when a `setPresence` is acknowledged and removes it when a
//! `clearPresence` is acknowledged (a 404 included). A marker found at start means the previous
//! run ended while it held a session, so the engine clears that session.

use std::io;
use std::path::{Path, PathBuf};

/// The marker file in the per-user state folder.
#[derive(Debug, Clone)]
pub struct SessionMarker {
    path: PathBuf,
}

impl SessionMarker {
    /// A marker stored at `path`; the folder is created on the first write.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// Where the marker lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a previous run left the marker behind.
    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Writes (`true`) or removes (`false`) the marker.
    pub fn set(&self, held: bool) -> io::Result<()> {
        if held {
            if let Some(folder) = self.path.parent() {
                std::fs::create_dir_all(folder)?;
            }
            std::fs::write(&self.path, b"presence session held\n")
        } else {
            match std::fs::remove_file(&self.path) {
                Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
                other => other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_round_trip() {
        let folder = tempfile::tempdir().unwrap();
        let marker = SessionMarker::new(folder.path().join("state/session.marker"));
        assert!(!marker.exists());
        marker.set(true).unwrap();
        assert!(marker.exists());
        marker.set(false).unwrap();
        assert!(!marker.exists());
        // Removing an absent marker is not an error.
        marker.set(false).unwrap();
    }
}
