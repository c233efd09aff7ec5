//! Tests and tamper drills: [`Drills`].

use super::*;

impl Drills for SledStorage {
    fn raw_put_log(&self, position: u64, bytes: &[u8]) -> Result<()> {
        self.log.insert(position.to_be_bytes(), bytes).db()?;
        self.flush_durably()
    }

    fn raw_put_access(&self, position: u64, bytes: &[u8]) -> Result<()> {
        self.access.insert(position.to_be_bytes(), bytes).db()?;
        self.flush_durably()
    }

    fn raw_remove_access(&self, position: u64) -> Result<()> {
        self.access.remove(position.to_be_bytes()).db()?;
        self.flush_durably()
    }

    fn raw_remove_log(&self, position: u64) -> Result<()> {
        self.log.remove(position.to_be_bytes()).db()?;
        self.flush_durably()
    }

    fn raw_set_recorded_head(&self, position: u64, hash: &str) -> Result<()> {
        self.set_meta(HEAD, Some(&head_value(position, hash)))
    }

    fn raw_put_projection(&self, part: &str, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        let t = self.projection_tree(part)?;
        match value {
            Some(v) => {
                t.insert(key, v).db()?;
            }
            None => {
                t.remove(key).db()?;
            }
        }
        self.flush_durably()
    }

    fn raw_mark_rebuilding(&self) -> Result<()> {
        self.set_meta(REBUILDING, Some(&[]))
    }
}
