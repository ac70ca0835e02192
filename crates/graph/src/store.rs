//! The refresh token in the OS keyring, split into chunks that every platform store accepts.
//!
//! Every platform uses the same layout, so a test on Linux proves the Windows case. Under the
//! keyring service `presence-bridge`, the entry named after the account (`<client id>@<tenant>`)
//! is the head: `pb1;<generation>;<chunks>;<bytes>;<fnv-1a 64 hex>`. The token itself is in
//! entries `<account>#<generation><index>`, each at most [`CHUNK_BYTES`] bytes. Windows
//! Credential Manager accepts 2,560 bytes of UTF-16 per credential, that is 1,280 characters;
//! 1,000 bytes of UTF-8 never exceed that.
//!
//! A save writes the chunks of the generation not in use, then the head (the commit point), then
//! deletes every chunk of the old generation. A save cut short leaves the previous token readable;
//! a head whose checksum does not match its chunks reads as "no token".

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::Secret;

/// Keyring service name of every entry this app writes.
pub const KEYRING_SERVICE: &str = "presence-bridge";

/// Largest chunk of the token in one keyring entry, in bytes of UTF-8.
pub const CHUNK_BYTES: usize = 1000;

/// Windows Credential Manager's limit for one credential blob, in bytes of UTF-16.
pub const WINDOWS_BLOB_LIMIT: usize = 2560;

const HEAD_VERSION: &str = "pb1";

/// An error of the OS keyring or of a stand-in store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No keyring service runs (no Secret Service on the session bus, no platform store).
    #[error("the OS keyring is not available")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The keyring service runs but is locked, has no default keyring to store into (the
    /// Secret Service's "no result found"), or refused access.
    #[error("the OS keyring is locked, has no default keyring or refused access")]
    Locked(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// An entry was larger than the store accepts.
    #[error("the OS keyring rejected an entry of {bytes} bytes (limit {limit} bytes)")]
    TooLong {
        /// Size of the rejected value in the store's encoding.
        bytes: usize,
        /// The store's limit.
        limit: usize,
    },
    /// An entry held bytes that are not UTF-8.
    #[error("the OS keyring returned an entry that is not UTF-8")]
    BadEncoding,
    /// Any other refusal.
    #[error("the OS keyring failed: {0}")]
    Other(String),
}

/// A flat string store, one value per key: the OS keyring or a test double.
///
/// Calls may block (the Secret Service speaks D-Bus), so async code calls them from a blocking
/// task.
pub trait SecretStore: Send + Sync + 'static {
    /// Returns the value under `key`, or `None` when there is none.
    fn get(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Stores `value` under `key`, replacing what was there.
    fn set(&self, key: &str, value: &str) -> Result<(), StoreError>;
    /// Removes `key`; a missing key is not an error.
    fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Returns whether what the store keeps is still there after the process exits (true for
    /// the OS keyring, false for a store in memory).
    fn outlives_process(&self) -> bool;
}

/// The OS keyring through the `keyring` crate (Secret Service, Windows Credential Manager,
/// macOS Keychain).
#[derive(Debug, Clone)]
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    /// Creates the store under [`KEYRING_SERVICE`].
    pub fn new() -> Self {
        Self {
            service: KEYRING_SERVICE.to_owned(),
        }
    }

    /// Creates a store under another service name, for tests that must not touch the app's
    /// entries.
    pub fn with_service(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    fn entry(&self, key: &str) -> Result<keyring::Entry, StoreError> {
        keyring::Entry::new(&self.service, key).map_err(|error| map_keyring_error(error, 0))
    }
}

impl Default for KeyringStore {
    fn default() -> Self {
        Self::new()
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        match self.entry(key)?.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(map_keyring_error(error, 0)),
        }
    }

    fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.entry(key)?
            .set_password(value)
            .map_err(|error| map_keyring_error(error, value.len()))
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => Err(map_keyring_error(error, 0)),
        }
    }

    fn outlives_process(&self) -> bool {
        true
    }
}

/// Maps a keyring error without keeping `BadEncoding`'s bytes, which are secret.
fn map_keyring_error(error: keyring::Error, bytes: usize) -> StoreError {
    match error {
        keyring::Error::PlatformFailure(source) => StoreError::Unavailable(source),
        keyring::Error::NoStorageAccess(source) => StoreError::Locked(source),
        keyring::Error::TooLong(_, limit) => StoreError::TooLong {
            bytes,
            limit: limit as usize,
        },
        keyring::Error::BadEncoding(_) => StoreError::BadEncoding,
        keyring::Error::NoEntry => StoreError::Other("entry not found".to_owned()),
        keyring::Error::Invalid(attribute, reason) => {
            StoreError::Other(format!("invalid {attribute}: {reason}"))
        }
        keyring::Error::Ambiguous(found) => {
            StoreError::Other(format!("{} entries match one name", found.len()))
        }
        other => StoreError::Other(other.to_string()),
    }
}

/// The behaviour of a [`MemorySecretStore`], to stand in for the platform stores in tests and
/// in the app's demo mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemoryStoreRule {
    /// Accepts every value.
    Unlimited,
    /// Rejects a value whose UTF-16 form exceeds [`WINDOWS_BLOB_LIMIT`] bytes, as Windows does.
    WindowsSize,
    /// Rejects every write with [`StoreError::TooLong`], whatever the size.
    RejectAllSizes,
    /// Fails every call with [`StoreError::Locked`].
    Locked,
}

/// A keyring in memory, shared by its clones, so that a new [`TokenStore`] over a clone reads
/// what an earlier one wrote, as a restarted app reads the OS keyring.
#[derive(Debug, Clone)]
pub struct MemorySecretStore {
    entries: Arc<Mutex<BTreeMap<String, String>>>,
    rule: MemoryStoreRule,
}

impl MemorySecretStore {
    /// Creates an empty store with `rule`.
    pub fn new(rule: MemoryStoreRule) -> Self {
        Self {
            entries: Arc::default(),
            rule,
        }
    }

    /// Returns every key and value, for tests that look for stale entries.
    pub fn snapshot(&self) -> BTreeMap<String, String> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn check_access(&self) -> Result<(), StoreError> {
        if self.rule == MemoryStoreRule::Locked {
            return Err(StoreError::Locked("the collection is locked".into()));
        }
        Ok(())
    }
}

impl SecretStore for MemorySecretStore {
    fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.check_access()?;
        Ok(self.lock().get(key).cloned())
    }

    fn set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.check_access()?;
        let utf16_bytes = value.encode_utf16().count() * 2;
        match self.rule {
            MemoryStoreRule::WindowsSize if utf16_bytes > WINDOWS_BLOB_LIMIT => {
                return Err(StoreError::TooLong {
                    bytes: utf16_bytes,
                    limit: WINDOWS_BLOB_LIMIT,
                });
            }
            MemoryStoreRule::RejectAllSizes => {
                return Err(StoreError::TooLong {
                    bytes: utf16_bytes,
                    limit: 0,
                });
            }
            _ => {}
        }
        self.lock().insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.check_access()?;
        self.lock().remove(key);
        Ok(())
    }

    fn outlives_process(&self) -> bool {
        false
    }
}

/// The refresh token of one account, chunked over a [`SecretStore`].
#[derive(Clone)]
pub struct TokenStore {
    store: Arc<dyn SecretStore>,
    account: String,
}

impl std::fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenStore").finish_non_exhaustive()
    }
}

/// The parsed head entry.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Head {
    generation: char,
    chunks: usize,
    bytes: usize,
    checksum: u64,
}

impl Head {
    fn parse(text: &str) -> Option<Head> {
        let mut parts = text.split(';');
        if parts.next()? != HEAD_VERSION {
            return None;
        }
        let generation = single_char(parts.next()?)?;
        let chunks = parts.next()?.parse().ok()?;
        let bytes = parts.next()?.parse().ok()?;
        let checksum = u64::from_str_radix(parts.next()?, 16).ok()?;
        if parts.next().is_some() || !matches!(generation, 'a' | 'b') {
            return None;
        }
        Some(Head {
            generation,
            chunks,
            bytes,
            checksum,
        })
    }

    fn render(&self) -> String {
        format!(
            "{HEAD_VERSION};{};{};{};{:016x}",
            self.generation, self.chunks, self.bytes, self.checksum
        )
    }
}

fn single_char(text: &str) -> Option<char> {
    let mut chars = text.chars();
    let first = chars.next()?;
    chars.next().is_none().then_some(first)
}

/// FNV-1a, 64 bit: enough to notice chunks that belong to different tokens.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Splits `text` into pieces of at most `max_bytes` bytes, at character boundaries.
fn split_chunks(text: &str, max_bytes: usize) -> Vec<&str> {
    let mut chunks = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = rest.len().min(max_bytes);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (chunk, tail) = rest.split_at(end);
        chunks.push(chunk);
        rest = tail;
    }
    chunks
}

impl TokenStore {
    /// Creates the store of `account`'s token in `store`.
    pub fn new(store: Arc<dyn SecretStore>, account: impl Into<String>) -> Self {
        Self {
            store,
            account: account.into(),
        }
    }

    /// Returns whether a saved token is still there after the process exits.
    pub fn outlives_process(&self) -> bool {
        self.store.outlives_process()
    }

    fn chunk_key(&self, generation: char, index: usize) -> String {
        format!("{}#{generation}{index}", self.account)
    }

    /// Reads the refresh token; `Ok(None)` when none is stored or the stored one is incomplete.
    pub fn load(&self) -> Result<Option<Secret>, StoreError> {
        let Some(head_text) = self.store.get(&self.account)? else {
            return Ok(None);
        };
        let Some(head) = Head::parse(&head_text) else {
            tracing::warn!("keyring head entry has an unknown format; ignoring the stored sign-in");
            return Ok(None);
        };
        let mut token = String::with_capacity(head.bytes);
        for index in 0..head.chunks {
            match self.store.get(&self.chunk_key(head.generation, index))? {
                Some(chunk) => token.push_str(&chunk),
                None => {
                    tracing::warn!(index, "keyring chunk missing; ignoring the stored sign-in");
                    return Ok(None);
                }
            }
        }
        if token.len() != head.bytes || fnv1a(token.as_bytes()) != head.checksum {
            tracing::warn!("keyring chunks do not match their head; ignoring the stored sign-in");
            return Ok(None);
        }
        Ok(Some(Secret::new(token)))
    }

    /// Replaces the stored token with `token`, leaving no chunk of the previous one behind.
    pub fn save(&self, token: &Secret) -> Result<(), StoreError> {
        let previous = self
            .store
            .get(&self.account)?
            .as_deref()
            .and_then(Head::parse);
        let generation = match previous {
            Some(Head {
                generation: 'a', ..
            }) => 'b',
            _ => 'a',
        };

        // Write the new chunks under the generation not in use, so the old token stays whole
        // until the head switches over.
        let chunks = split_chunks(token.expose(), CHUNK_BYTES);
        for (index, chunk) in chunks.iter().enumerate() {
            self.store.set(&self.chunk_key(generation, index), chunk)?;
        }
        let head = Head {
            generation,
            chunks: chunks.len(),
            bytes: token.len(),
            checksum: fnv1a(token.expose().as_bytes()),
        };
        self.store.set(&self.account, &head.render())?;

        // Remove what is left of the other generation, and of this one past the new end.
        let old = if generation == 'a' { 'b' } else { 'a' };
        self.delete_chunks_from(old, 0, previous.map_or(0, |head| head.chunks))?;
        self.delete_chunks_from(generation, chunks.len(), 0)?;
        Ok(())
    }

    /// Deletes the head and every chunk of both generations.
    pub fn clear(&self) -> Result<(), StoreError> {
        let previous = self
            .store
            .get(&self.account)?
            .as_deref()
            .and_then(Head::parse);
        self.store.delete(&self.account)?;
        let known = previous.map_or(0, |head| head.chunks);
        self.delete_chunks_from('a', 0, known)?;
        self.delete_chunks_from('b', 0, known)?;
        Ok(())
    }

    /// Deletes chunks of `generation` from `start` on: every chunk below `known` without
    /// looking first, then on until a chunk is missing, which catches chunks that a save cut
    /// short had written.
    fn delete_chunks_from(
        &self,
        generation: char,
        start: usize,
        known: usize,
    ) -> Result<(), StoreError> {
        for index in start..known.max(start) {
            self.store.delete(&self.chunk_key(generation, index))?;
        }
        let mut index = known.max(start);
        loop {
            let key = self.chunk_key(generation, index);
            if self.store.get(&key)?.is_none() {
                return Ok(());
            }
            self.store.delete(&key)?;
            index += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(length: usize, seed: u8) -> Secret {
        let text: String = (0..length)
            .map(|i| char::from(b'A' + ((i as u8).wrapping_add(seed)) % 26))
            .collect();
        Secret::new(text)
    }

    fn token_store(memory: &MemorySecretStore) -> TokenStore {
        TokenStore::new(Arc::new(memory.clone()), "client@tenant")
    }

    #[test]
    fn windows_rule_rotation_leaves_no_stale_chunk() {
        let memory = MemorySecretStore::new(MemoryStoreRule::WindowsSize);
        let first = token(1900, 1);
        let second = token(2700, 2);

        token_store(&memory).save(&first).unwrap();
        assert_eq!(memory.snapshot().len(), 1 + 2, "head and two chunks");
        token_store(&memory).save(&second).unwrap();

        // A new store instance reads what an app restart would read.
        let restored = token_store(&memory).load().unwrap().expect("token stored");
        assert_eq!(restored.expose(), second.expose());
        let entries = memory.snapshot();
        assert_eq!(
            entries.len(),
            1 + 3,
            "head and three chunks, no stale entry: {:?}",
            entries.keys()
        );
        for value in entries.values() {
            assert!(value.encode_utf16().count() * 2 <= WINDOWS_BLOB_LIMIT);
        }

        // Rotating back to a shorter token removes the longer one's extra chunk.
        token_store(&memory).save(&first).unwrap();
        assert_eq!(memory.snapshot().len(), 1 + 2);
        assert_eq!(
            token_store(&memory).load().unwrap().unwrap().expose(),
            first.expose()
        );
    }

    #[test]
    fn large_token_round_trips_byte_identical() {
        let memory = MemorySecretStore::new(MemoryStoreRule::WindowsSize);
        // Multi-byte characters check that chunks split at character boundaries.
        let text: String = "ä€x".repeat(700);
        let secret = Secret::new(text.clone());
        token_store(&memory).save(&secret).unwrap();
        assert_eq!(token_store(&memory).load().unwrap().unwrap().expose(), text);
    }

    #[test]
    fn clear_removes_every_entry() {
        let memory = MemorySecretStore::new(MemoryStoreRule::Unlimited);
        token_store(&memory).save(&token(4096, 3)).unwrap();
        token_store(&memory).clear().unwrap();
        assert!(
            memory.snapshot().is_empty(),
            "left: {:?}",
            memory.snapshot().keys()
        );
        assert!(token_store(&memory).load().unwrap().is_none());
    }

    #[test]
    fn mismatched_chunk_reads_as_no_token() {
        let memory = MemorySecretStore::new(MemoryStoreRule::Unlimited);
        token_store(&memory).save(&token(2500, 4)).unwrap();
        memory.set("client@tenant#a1", "tampered").unwrap();
        assert!(token_store(&memory).load().unwrap().is_none());
    }

    #[test]
    fn save_cut_short_keeps_previous_token() {
        let memory = MemorySecretStore::new(MemoryStoreRule::Unlimited);
        let kept = token(1500, 5);
        token_store(&memory).save(&kept).unwrap();
        // Chunks of a next generation that never got its head, as after a crash mid-save.
        memory.set("client@tenant#b0", "partial").unwrap();
        memory.set("client@tenant#b1", "partial").unwrap();
        assert_eq!(
            token_store(&memory).load().unwrap().unwrap().expose(),
            kept.expose()
        );

        let next = token(800, 6);
        token_store(&memory).save(&next).unwrap();
        assert_eq!(
            token_store(&memory).load().unwrap().unwrap().expose(),
            next.expose()
        );
        assert_eq!(
            memory.snapshot().len(),
            2,
            "left: {:?}",
            memory.snapshot().keys()
        );
    }

    #[test]
    fn refusing_stores_report_reason() {
        let cases = [
            (MemoryStoreRule::RejectAllSizes, "rejected an entry"),
            (MemoryStoreRule::Locked, "locked"),
        ];
        for (rule, expected) in cases {
            let memory = MemorySecretStore::new(rule.clone());
            let error = token_store(&memory).save(&token(10, 7)).unwrap_err();
            assert!(error.to_string().contains(expected), "{rule:?}: {error}");
            assert!(memory.snapshot().is_empty());
        }
    }

    #[test]
    fn head_parse_rejects_garbage() {
        let cases = [
            "",
            "pb1",
            "pb2;a;1;1;0",
            "pb1;c;1;1;0",
            "pb1;a;x;1;0",
            "pb1;a;1;1;0;extra",
        ];
        for text in cases {
            assert_eq!(Head::parse(text), None, "{text:?}");
        }
        let head = Head {
            generation: 'b',
            chunks: 3,
            bytes: 2700,
            checksum: 42,
        };
        assert_eq!(Head::parse(&head.render()), Some(head));
    }
}
