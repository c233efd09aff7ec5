//! The ids of streams one flow opens for another (DESIGN §3a, §3b): derived from the
//! stream that asks, so it names the stream it opened without a second write, and a second
//! opening for the same cause cannot start another stream. Below the flows, so that the
//! flows and [`crate::reactions::reactions`] share them without importing each other.

use crate::ids::{DocumentId, UnitCode};

/// The id of the 收文 that `unit` gets for an 发文 of this system it acknowledged: derived
/// from both, so the 发文 names its 收文 without a second write, and a second registration of
/// the same acknowledgement cannot start another stream.
pub fn linked_receipt_id(source: DocumentId, unit: &UnitCode) -> DocumentId {
    // A fixed namespace of this engine's own (a v4 uuid drawn once).
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x5d1c_3f4e_9a27_4b1e_8c05_2f6a_b7d3_e901);
    DocumentId(uuid::Uuid::new_v5(
        &NAMESPACE,
        format!("收文/{source}/{unit}").as_bytes(),
    ))
}

/// The id of the item a 批办 on the 收文 `receipt` opens, the `version`-th event of that
/// 收文 being the 批办: derived from both, so the 收文 names its item without a second write
/// and a second opening for the same 批办 cannot start another stream.
pub fn linked_item_id(receipt: DocumentId, version: u64) -> DocumentId {
    // A fixed namespace of this engine's own (a v4 uuid drawn once).
    const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x8e4b_1a06_73d2_4c9f_b5e8_0d17_c2a9_f364);
    DocumentId(uuid::Uuid::new_v5(
        &NAMESPACE,
        format!("督办/{receipt}/{version}").as_bytes(),
    ))
}
