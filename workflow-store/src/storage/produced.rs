//! What a rebuild produced, so that its end can remove every projection entry it did not:
//! shared by the backends (each keeps one while a rebuild is under way).

use std::collections::HashSet;

use crate::error::{Error, Result};

/// Fingerprints of the projection entries a rebuild produced: 128-bit keyed hashes, 16
/// bytes per entry instead of the key; a stale entry survives only if its fingerprint
/// collides with a produced one (odds around 2^-100 even for billions of entries).
#[derive(Debug, Default)]
pub(crate) struct Produced {
    keys: HashSet<u128>,
    hashers: (std::hash::RandomState, std::hash::RandomState),
}

impl Produced {
    /// The record of the rebuild under way, taken at its end.
    pub(crate) fn take(slot: &std::sync::Mutex<Option<Produced>>) -> Result<Produced> {
        slot.lock()
            .map_err(|_| Error::Internal {
                reason: "the rebuild's record was poisoned".into(),
            })?
            .take()
            .ok_or_else(|| Error::Internal {
                reason: "end_rebuild without begin_rebuild".into(),
            })
    }
}

impl Produced {
    fn fingerprint(&self, tree: &str, key: &[u8]) -> u128 {
        use std::hash::BuildHasher;
        let half = |b: &std::hash::RandomState| b.hash_one((tree, key));
        (u128::from(half(&self.hashers.0)) << 64) | u128::from(half(&self.hashers.1))
    }

    pub(crate) fn add(&mut self, tree: &str, key: &[u8]) {
        let f = self.fingerprint(tree, key);
        self.keys.insert(f);
    }

    pub(crate) fn contains(&self, tree: &str, key: &[u8]) -> bool {
        self.keys.contains(&self.fingerprint(tree, key))
    }
}
